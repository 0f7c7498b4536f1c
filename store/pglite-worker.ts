/**
 * The worker thread that owns the embedded PGlite database, so that a long statement blocks
 * this thread and never the server's event loop. It answers the requests of
 * `pglite-worker-client.ts` one at a time, in order. Loaded by `tsx` in development and by
 * Node's own type stripping elsewhere: erasable TypeScript only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types, type Results, type Transaction } from '@electric-sql/pglite';
import {
  GuardState,
  serializeError,
  type QueryOutcome,
  type WorkerData,
  type WorkerReady,
  type WorkerReply,
  type WorkerRequest,
} from './pglite-worker-protocol.ts';

type Queryable = Pick<Transaction, 'query'>;

/** A transaction opened by `begin` and held across requests until `commit` or `rollback`. */
interface OpenTransaction {
  readonly tx: Transaction;
  readonly finish: (commit: boolean) => void;
  readonly closed: Promise<unknown>;
}

/** A statement that may change the time limit: `SET [LOCAL] statement_timeout`, `set_config(...)`. */
const NAMES_LIMIT = /statement_timeout/i;

/**
 * A plain read by its shape: SELECT without INTO (which creates a table). Strata runs no SELECT
 * with side effects outside a transaction; one that did would keep them when cut off.
 */
const READS_ONLY = /^\s*select\b(?![\s\S]*\binto\b)/i;

/** PostgreSQL's `active_sql_transaction`: the statement may not run inside BEGIN ... COMMIT. */
const CANNOT_RUN_IN_TRANSACTION = '25001';

const port = parentPort;
if (!port) throw new Error('pglite-worker.ts runs as a worker thread');
const { dataDir, statementTimeoutMs, guard: guardBuffer } = workerData as WorkerData;
const guard = new Int32Array(guardBuffer);
let transaction: OpenTransaction | undefined;
/** A statement of the open transaction named `statement_timeout`: re-read it when it ends. */
let limitTouched = false;
let pglite: PGlite;

try {
  pglite = await PGlite.create(dataDir, {
    parsers: {
      [types.DATE]: (value: string) => value,
      [types.INT8]: parseSafeBigint,
    },
  });
  // Sessions run in UTC on both engines; reporting time zones are applied explicitly.
  await pglite.exec(`SET TIME ZONE 'UTC'`);
  // PGlite keeps but never enforces statement_timeout: the main thread does, reading it here.
  await pglite.exec(`SET statement_timeout = ${Math.max(0, Math.trunc(statementTimeoutMs))}`);
  port.postMessage({ ready: true } satisfies WorkerReady);
} catch (error) {
  // The main thread terminates this worker when it reads the failure.
  port.postMessage({ ready: false, error: serializeError(error) } satisfies WorkerReady);
  throw error;
}

// Requests are answered strictly in order: the next one starts when the previous is done.
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  queue = queue.then(async () => {
    let reply: WorkerReply;
    try {
      reply = { ok: true, result: await handle(request) };
    } catch (error) {
      reply = { ok: false, error: serializeError(error) };
    }
    port.postMessage(reply);
  });
});

async function handle(request: WorkerRequest): Promise<QueryOutcome> {
  switch (request.kind) {
    case 'query': {
      const results = await guarded(request.guarded, request.sql, (q) => q.query(request.sql, [...request.parameters], { rowMode: 'object' }));
      return NAMES_LIMIT.test(request.sql) ? { ...results, statementTimeoutMs: await readLimit() } : results;
    }
    case 'copy':
      return guarded(request.guarded, request.sql, (q) => q.query(request.sql, [], { blob: new Blob([request.csv]) }));
    case 'begin':
      await begin(request.settings);
      return none();
    case 'commit':
    case 'rollback': {
      const touched = limitTouched;
      limitTouched = false;
      await finish(request.kind === 'commit');
      return touched ? { ...none(), statementTimeoutMs: await readLimit() } : none();
    }
    case 'close':
      // A clean shutdown (checkpoint); the main thread then terminates this worker.
      if (transaction) await finish(false);
      await pglite.close();
      return none();
  }
}

/**
 * Runs a statement under the time limit's guard. Outside a transaction a statement that may
 * write runs in a transaction of its own, committed only when this thread wins the race
 * against the limit: a statement the caller was told was cancelled leaves nothing behind.
 * Plain reads skip that (it would double their cost); inside a transaction the caller's
 * rollback undoes the statement.
 */
async function guarded(isGuarded: boolean, text: string, run: (q: Queryable) => Promise<Results>): Promise<QueryOutcome> {
  if (transaction || !isGuarded || READS_ONLY.test(text)) {
    const results = await run(transaction?.tx ?? pglite);
    claimFinish();
    return outcome(results);
  }
  try {
    return await pglite.transaction(async (tx) => {
      const results = await run(tx);
      if (!claimFinish()) await tx.rollback();
      return outcome(results);
    });
  } catch (error) {
    // VACUUM and the like refuse a transaction block: run those bare.
    if ((error as { code?: unknown }).code !== CANNOT_RUN_IN_TRANSACTION) throw error;
    return outcome(await run(pglite));
  }
}

/** Moves the guard from RUNNING to FINISHING; false when the limit cancelled the statement first. */
function claimFinish(): boolean {
  return Atomics.compareExchange(guard, 0, GuardState.running, GuardState.finishing) === GuardState.running;
}

/** Opens a PGlite transaction and keeps it open until {@link finish}, as Kysely's PGlite driver does. */
async function begin(settings: readonly string[]): Promise<void> {
  if (transaction) throw new Error('a transaction is already open on the PGlite connection');
  await new Promise<void>((begun, failed) => {
    let finish: (commit: boolean) => void = () => undefined;
    const decided = new Promise<boolean>((resolve) => (finish = resolve));
    const closed = pglite.transaction(async (tx) => {
      transaction = { tx, finish, closed };
      if (settings.length > 0) await tx.exec(`SET TRANSACTION ${settings.join(' ')}`);
      begun();
      if (!(await decided)) await tx.rollback();
    });
    closed.catch((error: unknown) => {
      if (transaction?.closed === closed) transaction = undefined;
      failed(error);
    });
  });
}

async function finish(commit: boolean): Promise<void> {
  const open = transaction;
  transaction = undefined;
  if (!open) return;
  void open.finish(commit);
  if (commit) await open.closed;
  else await open.closed.catch(() => undefined);
}

/** The session's `statement_timeout` in milliseconds, as the statements left it. */
async function readLimit(): Promise<number | undefined> {
  if (transaction) limitTouched = true;
  try {
    const { rows } = await (transaction?.tx ?? pglite).query<{ ms: number }>(`SELECT setting::int AS ms FROM pg_settings WHERE name = 'statement_timeout'`);
    return rows[0]?.ms;
  } catch {
    return undefined; // an aborted transaction answers nothing; its end reads the limit again
  }
}

function outcome(results: Results): QueryOutcome {
  return { rows: results.rows, affectedRows: results.affectedRows };
}

function none(): QueryOutcome {
  return { rows: [], affectedRows: undefined };
}

function parseSafeBigint(value: string): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}
