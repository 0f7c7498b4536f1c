/**
 * What the main thread and the PGlite worker (`pglite-worker.ts`) say to each other. This
 * file is loaded by the worker too, under plain Node type stripping: erasable syntax only.
 */

/** What a caller asks of the PGlite worker. */
export type ClientRequest =
  | { readonly kind: 'query'; readonly sql: string; readonly parameters: readonly unknown[] }
  | { readonly kind: 'copy'; readonly sql: string; readonly csv: string }
  | { readonly kind: 'begin'; readonly settings: readonly string[] }
  | { readonly kind: 'commit' }
  | { readonly kind: 'rollback' }
  | { readonly kind: 'close' };

/**
 * One request to the worker, answered with one {@link WorkerReply}, in order. `guarded`: a
 * time limit watches the statement (see {@link GuardState}).
 */
export type WorkerRequest = ClientRequest & { readonly guarded: boolean };

export interface QueryOutcome {
  readonly rows: unknown[];
  readonly affectedRows: number | undefined;
  /**
   * The session's `statement_timeout` in milliseconds, reported after a statement that names
   * it (`SET LOCAL statement_timeout = 0` before an index build) and after the end of a
   * transaction that changed it: the time limit follows it, as on PostgreSQL.
   */
  readonly statementTimeoutMs?: number;
}

export type WorkerReply = { readonly ok: true; readonly result: QueryOutcome } | { readonly ok: false; readonly error: SerializedError };

/** The first message of a worker: PGlite is open, or why it is not. */
export type WorkerReady = { readonly ready: true } | { readonly ready: false; readonly error: SerializedError };

export interface WorkerData {
  readonly dataDir: string;
  /** The session's initial `statement_timeout`, in milliseconds (0: none). */
  readonly statementTimeoutMs: number;
  /** One Int32 cell holding a {@link GuardState}, shared by both threads. */
  readonly guard: SharedArrayBuffer;
}

/**
 * The race between a guarded statement's end and its time limit, settled with one
 * compare-and-swap on a shared cell: the main thread moves RUNNING to CANCELLED when the
 * limit passes, the worker moves RUNNING to FINISHING before it commits. Whoever swaps first
 * decides: a cancelled statement is rolled back, a finishing one is answered.
 */
export const GuardState = { idle: 0, running: 1, finishing: 2, cancelled: 3 } as const;
export type GuardState = (typeof GuardState)[keyof typeof GuardState];

/** The fields of a PostgreSQL error notice that survive the thread boundary. */
const ERROR_FIELDS = [
  'code',
  'severity',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** Structured clone keeps only an Error's message and name: carry the SQLSTATE and notice fields. */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, string> = {};
  for (const key of ERROR_FIELDS) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string') fields[key] = value;
  }
  return { name: error.name, message: error.message, fields };
}

/** An Error with the message, name and notice fields (`code`, `constraint`, ...) of the original. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  return Object.assign(error, serialized.fields);
}
