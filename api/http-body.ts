import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {}
export class MalformedBodyError extends Error {}

/** Reads a request body up to `limit` bytes; a larger one is refused, not buffered. */
export async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyTooLargeError(`request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(`request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON body; an empty body is `undefined`. */
export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBody(request, limit);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MalformedBodyError('request body is not valid JSON');
  }
}
