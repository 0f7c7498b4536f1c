import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/** Resolves with how `child` ended. */
export function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Resolves with the first match of `pattern` in what `stream` prints; rejects if it ends first. */
export function waitForOutput(stream: Readable | null, pattern: RegExp): Promise<RegExpMatchArray> {
  if (!stream) return Promise.reject(new Error('the stream is not piped'));
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (!match) return;
      stream.off('data', onData);
      stream.off('end', onEnd);
      resolve(match);
    };
    const onEnd = () => reject(new Error(`the output ended without ${pattern}: ${text.slice(-2000)}`));
    stream.on('data', onData);
    stream.once('end', onEnd);
  });
}

/** Everything `stream` has printed so far, kept as it arrives. */
export function collectOutput(stream: Readable | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

/** The JSON log lines (pino) of a process's output whose `msg` is `message`. */
export function logLines(output: string, message: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === message);
}
