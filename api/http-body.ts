import type { IncomingMessage } from 'node:http';
import { isStorableText } from '../modeling/storable-text.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { scanInputText } from './input-scan.ts';

export class BodyTooLargeError extends Error {}
/** A body the server will not read: not JSON, nested too deep, or holding text PostgreSQL cannot store. */
export class MalformedBodyError extends Error {}

/** Reads a request body up to `limit` bytes; a larger one is refused, not buffered. */
export function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new BodyTooLargeError(`request body over ${limit} bytes`));
  // Stream events rather than `for await`: the async iterator costs a few promises and an
  // object per chunk, on every request of the hot path, for a body that is usually one chunk.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop reading, as leaving the `for await` loop did: the rest is not buffered.
        request.destroy();
        reject(new BodyTooLargeError(`request body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the request closed before its body was read'));
    };
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

/**
 * Parses a JSON body; an empty body is `undefined`. Before anything else sees it, a body
 * nesting deeper than `MAX_INPUT_NESTING`, or holding a NUL or an unpaired surrogate
 * anywhere (`\u0000`, `\ud800`: PostgreSQL cannot store them), is refused with a
 * `MalformedBodyError` that says where.
 */
export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBody(request, limit);
  if (text.trim() === '') return undefined;
  const problem = scanInputText(text, 'json');
  if (problem?.kind === 'nesting') throw new MalformedBodyError(`request body: ${problem.message}`);
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new MalformedBodyError('request body is not valid JSON');
  }
  if (problem) {
    const path = unstorablePath(body);
    throw new MalformedBodyError(
      `request body: ${path === undefined ? problem.message : `the text at ${quoteInput(path)} holds a NUL character or an unpaired surrogate; such text cannot be stored`}`,
    );
  }
  return body;
}

/** The path (`[3].properties.note`) of the first string or key PostgreSQL cannot store, if any. */
function unstorablePath(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (typeof node === 'string') {
      if (!isStorableText(node)) return path || '(the body)';
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], `${path}[${i}]`]);
    } else if (node !== null && typeof node === 'object') {
      const entries = Object.entries(node);
      for (const [key] of entries) if (!isStorableText(key)) return `${path}${path ? '.' : ''}${key}`;
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        stack.push([child, `${path}${path ? '.' : ''}${key}`]);
      }
    }
  }
  return undefined;
}
