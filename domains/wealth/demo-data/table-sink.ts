import type { Database } from '../../../store/database.ts';

/** Where generated CSV goes: one COPY stream per table, fed in chunks, with backpressure. */
export interface TableSink {
  /** Queues CSV lines; resolves when the sink can take more. */
  write(csv: string): Promise<void>;
  /** Flushes and waits until every row is in the table. */
  finish(): Promise<void>;
}

/** PGlite copies one buffered string at a time; this many bytes per COPY. */
const PGLITE_COPY_BYTES = 16 * 1024 * 1024;
/**
 * PostgreSQL streams each table through successive COPY statements. A statement may not run
 * longer than the pool's statement timeout (30 s by default), so a segment ends after this
 * many bytes or seconds, whichever comes first.
 */
const SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_MS = 8_000;
/** Chunks queued ahead of the COPY before the producer waits. */
const QUEUE_CHUNKS = 8;

export function createTableSink(database: Database, table: string, columns: readonly string[]): TableSink {
  return database.engine === 'pglite' ? bufferedSink(database, table, columns) : streamingSink(database, table, columns);
}

function bufferedSink(database: Database, table: string, columns: readonly string[]): TableSink {
  let parts: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (parts.length === 0) return;
    const text = parts.join('');
    parts = [];
    bytes = 0;
    await database.copyCsv(table, columns, text);
  };
  return {
    async write(csv) {
      if (csv.length === 0) return;
      parts.push(csv);
      bytes += csv.length;
      if (bytes >= PGLITE_COPY_BYTES) await flush();
    },
    finish: flush,
  };
}

function streamingSink(database: Database, table: string, columns: readonly string[]): TableSink {
  let segment: { channel: CsvChannel; done: Promise<void>; bytes: number; openedAt: number } | undefined;
  const endSegment = async () => {
    if (!segment) return;
    const { channel, done } = segment;
    segment = undefined;
    channel.close();
    await done;
  };
  return {
    async write(csv) {
      if (csv.length === 0) return;
      if (segment && (segment.bytes >= SEGMENT_BYTES || performance.now() - segment.openedAt >= SEGMENT_MS)) await endSegment();
      if (!segment) {
        const channel = createCsvChannel(QUEUE_CHUNKS);
        const done = database.copyCsv(table, columns, channel);
        done.catch((error: unknown) => channel.fail(error));
        segment = { channel, done, bytes: 0, openedAt: performance.now() };
      }
      segment.bytes += csv.length;
      await segment.channel.push(csv);
    },
    finish: endSegment,
  };
}

interface CsvChannel extends AsyncIterable<string> {
  push(chunk: string): Promise<void>;
  close(): void;
  fail(error: unknown): void;
}

/** A bounded queue of CSV chunks that a COPY reads as an async iterable. */
function createCsvChannel(limit: number): CsvChannel {
  const queue: string[] = [];
  let closed = false;
  let failure: { error: unknown } | undefined;
  let wake = signal();
  const notify = () => {
    const current = wake;
    wake = signal();
    current.resolve();
  };
  const throwIfFailed = () => {
    if (failure) throw failure.error;
  };
  const fail = (error: unknown) => {
    failure ??= { error };
    notify();
  };
  return {
    async push(chunk) {
      throwIfFailed();
      queue.push(chunk);
      notify();
      while (queue.length > limit && !failure) await wake.promise;
      throwIfFailed();
    },
    close() {
      closed = true;
      notify();
    },
    fail,
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          if (queue.length > 0) {
            const chunk = queue.shift()!;
            notify();
            yield chunk;
          } else if (closed || failure) {
            return;
          } else {
            await wake.promise;
          }
        }
      } finally {
        if (!closed) fail(new Error('the COPY stopped reading its input'));
      }
    },
  };
}

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
