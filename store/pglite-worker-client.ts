import { Worker } from 'node:worker_threads';
import { siblingModule } from './project-files.ts';
import {
  GuardState,
  deserializeError,
  type ClientRequest,
  type QueryOutcome,
  type WorkerData,
  type WorkerReady,
  type WorkerReply,
  type WorkerRequest,
} from './pglite-worker-protocol.ts';

/** The main thread's handle on the PGlite worker: one request at a time, in order. */
export interface PgliteWorkerClient {
  /**
   * Sends one request once every earlier one is done. A statement (`query`, `copy`) rejects
   * with SQLSTATE 57014 when it runs past the time limit. `transaction`: the generation the
   * request's transaction began on; when that worker has ended, the transaction went with it:
   * a rollback has nothing left to do, anything else rejects with SQLSTATE 25P02.
   */
  request(message: ClientRequest, transaction?: number): Promise<QueryOutcome>;
  /** Counts the workers started: a transaction lives and dies with its worker's generation. */
  readonly generation: number;
  /** Ends the worker: cleanly when it is idle, at once when it still runs a cancelled statement. */
  close(): Promise<void>;
}

export interface PgliteWorkerOptions {
  /** PGlite data folder or `memory://`. */
  readonly dataDir: string;
  /**
   * Longest a statement may run, in milliseconds; 0 sets no limit. It is the session's
   * `statement_timeout`, so `SET LOCAL statement_timeout = 0` lifts it for one transaction.
   */
  readonly statementTimeoutMs: number;
}

/** The worker's entry: `pglite-worker.ts` from the sources (tsx, vitest), `.js` compiled into dist/. */
const WORKER_URL = siblingModule(import.meta.url, 'pglite-worker');

/**
 * Starts PGlite in a worker thread and resolves once it is open. A statement past the time
 * limit answers SQLSTATE 57014 at the limit. WebAssembly cannot be interrupted, so on a data
 * folder the worker is terminated and a fresh one opens the same folder (committed work is on
 * disk); in memory that would lose everything, so the statement runs to its end, rolled back,
 * and the next request waits for it.
 *
 * ```ts
 * const client = await startPgliteWorker({ dataDir: 'memory://', statementTimeoutMs: 30_000 });
 * const { rows } = await client.request({ kind: 'query', sql: 'select 1 as one', parameters: [] });
 * await client.close();
 * ```
 */
export async function startPgliteWorker(options: PgliteWorkerOptions): Promise<PgliteWorkerClient> {
  const inMemory = options.dataDir.startsWith('memory://');
  const guardBuffer = new SharedArrayBuffer(4);
  const guard = new Int32Array(guardBuffer);
  const initialLimitMs = Math.max(0, Math.trunc(options.statementTimeoutMs));
  let worker: Worker | undefined;
  let generation = 0;
  /** The session's statement_timeout as the worker last reported it. */
  let limitMs = initialLimitMs;
  /** Set once an in-memory worker has ended: its data is gone, so every later request fails. */
  let lost: Error | undefined;
  let closed = false;
  let tail: Promise<void> = Promise.resolve();
  /** Set while a cancelled statement still runs in memory: close() then terminates at once. */
  let runaway: Worker | undefined;

  const ensureWorker = async (): Promise<Worker> => {
    if (worker) return worker;
    if (lost) throw lost;
    const started = await spawn({ dataDir: options.dataDir, statementTimeoutMs: initialLimitMs, guard: guardBuffer });
    started.on('error', () => undefined); // reported to the request in flight by firstMessage
    started.once('exit', (code) => {
      if (worker !== started) return;
      worker = undefined;
      if (inMemory) lost = new Error(`the in-memory PGlite database is gone: its worker exited with code ${code}`);
    });
    worker = started;
    generation += 1;
    limitMs = initialLimitMs; // a fresh session
    return started;
  };

  const exchange = async (message: ClientRequest, settle: Settle, transaction?: number): Promise<void> => {
    if (transaction !== undefined && (!worker || transaction !== generation)) {
      if (message.kind === 'rollback') settle.resolve({ rows: [], affectedRows: undefined });
      else settle.reject(transactionLostError());
      return;
    }
    const current = await ensureWorker();
    const limited = (message.kind === 'query' || message.kind === 'copy') && limitMs > 0;
    Atomics.store(guard, 0, limited ? GuardState.running : GuardState.idle);
    const reply = firstMessage<WorkerReply>(current);
    current.ref();
    current.postMessage({ ...message, guarded: limited } satisfies WorkerRequest);
    let timer: NodeJS.Timeout | undefined;
    let ending: Promise<number> | undefined;
    if (limited) {
      timer = setTimeout(() => {
        if (Atomics.compareExchange(guard, 0, GuardState.running, GuardState.cancelled) !== GuardState.running) return;
        settle.reject(statementTimeoutError());
        if (inMemory) runaway = current;
        else {
          // The statement cannot be interrupted: end its thread; the next request opens the folder again.
          worker = undefined;
          ending = current.terminate();
        }
      }, limitMs);
    }
    try {
      const outcome = await reply;
      if (outcome.ok && outcome.result.statementTimeoutMs !== undefined) limitMs = outcome.result.statementTimeoutMs;
      if (outcome.ok) settle.resolve(outcome.result);
      else settle.reject(deserializeError(outcome.error));
    } catch (error) {
      settle.reject(error as Error);
    } finally {
      clearTimeout(timer);
      runaway = undefined;
      current.unref();
    }
    // No second PGlite may open the folder before the first has stopped touching it.
    await ending;
  };

  const request = (message: ClientRequest, transaction?: number): Promise<QueryOutcome> => {
    if (closed) return Promise.reject(new Error('the PGlite database is closed'));
    return new Promise((resolve, reject) => {
      const settle = settleOnce(resolve, reject);
      tail = tail.then(() => exchange(message, settle, transaction)).catch((error: unknown) => settle.reject(error as Error));
    });
  };

  await ensureWorker();
  return {
    get generation() {
      return generation;
    },
    request,
    async close() {
      if (closed) return;
      closed = true;
      if (runaway) await runaway.terminate();
      await tail;
      const last = worker;
      if (!last) return;
      // PGlite closes cleanly (a checkpoint) before the thread ends; a failure there changes nothing.
      await exchange(
        { kind: 'close' },
        settleOnce(
          () => undefined,
          () => undefined,
        ),
      );
      worker = undefined;
      await last.terminate();
    },
  };
}

interface Settle {
  resolve(outcome: QueryOutcome): void;
  reject(error: Error): void;
}

/** The first answer wins: a reply that arrives after the time limit has spoken is dropped. */
function settleOnce(resolve: (outcome: QueryOutcome) => void, reject: (error: Error) => void): Settle {
  let settled = false;
  return {
    resolve(outcome) {
      if (!settled) resolve(outcome);
      settled = true;
    },
    reject(error) {
      if (!settled) reject(error);
      settled = true;
    },
  };
}

/** Starts a worker and waits until its PGlite is open. */
async function spawn(data: WorkerData): Promise<Worker> {
  const worker = new Worker(WORKER_URL, { workerData: data });
  try {
    const ready = await firstMessage<WorkerReady>(worker, 'while opening');
    if (!ready.ready) throw deserializeError(ready.error);
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  worker.unref();
  return worker;
}

/** The next message of the worker, or a rejection when it fails or exits first. */
function firstMessage<T>(worker: Worker, context = ''): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => done(() => resolve(message));
    const onError = (error: Error) => done(() => reject(error));
    const onExit = (code: number) => done(() => reject(new Error(`the PGlite worker exited with code ${code} ${context}`.trim())));
    // Only these listeners go: Worker keeps listeners of its own.
    const done = (then: () => void) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      then();
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/** A statement of a transaction whose worker has ended (SQLSTATE 25P02, as for an aborted one). */
function transactionLostError(): Error {
  const error = new Error('current transaction is aborted: the PGlite worker that held it has ended');
  return Object.assign(error, { name: 'error', code: '25P02', severity: 'ERROR' });
}

/** The error PostgreSQL raises when `statement_timeout` cuts a statement off (SQLSTATE 57014). */
function statementTimeoutError(): Error {
  const error = new Error('canceling statement due to statement timeout');
  return Object.assign(error, { name: 'error', code: '57014', severity: 'ERROR' });
}
