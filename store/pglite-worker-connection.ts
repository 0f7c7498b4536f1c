import { AbortedTransactionError, type CompiledQuery, type DatabaseConnection, type QueryResult, type TransactionSettings } from 'kysely';
import type { PgliteWorkerClient } from './pglite-worker-client.ts';

/** PostgreSQL's `in_failed_sql_transaction`. */
const IN_FAILED_TRANSACTION = '25P02';
/** PostgreSQL's `query_canceled`: the time limit cut the statement off. */
const QUERY_CANCELED = '57014';

interface TransactionState {
  /** The worker generation the transaction began on: a worker that ended took it along. */
  readonly generation: number;
  /** Set when a statement of the transaction ran past the time limit. */
  aborted: boolean;
}

/**
 * The single connection to the PGlite worker. Kysely serializes its use (PGlite's adapter has
 * no multiple connections), so a transaction holds it from BEGIN to COMMIT or ROLLBACK.
 * A transaction whose statement ran past the time limit is aborted, as PostgreSQL does after a
 * cancel: later statements fail with 25P02 and COMMIT rolls back.
 */
export class PgliteWorkerConnection implements DatabaseConnection {
  readonly #client: PgliteWorkerClient;
  #transaction: TransactionState | undefined;

  constructor(client: PgliteWorkerClient) {
    this.#client = client;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const state = this.#transaction;
    if (state?.aborted) throw abortedError();
    try {
      const { rows, affectedRows } = await this.#client.request(
        { kind: 'query', sql: compiledQuery.sql, parameters: compiledQuery.parameters },
        state?.generation,
      );
      return { numAffectedRows: affectedRows != null ? BigInt(affectedRows) : undefined, rows: rows as R[] };
    } catch (error) {
      if (state && (error as { code?: unknown }).code === QUERY_CANCELED) state.aborted = true;
      throw extendStackTrace(error, new Error());
    }
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming is not supported by PGlite.');
  }

  async begin(settings: TransactionSettings): Promise<void> {
    const modes = [...(settings.isolationLevel ? [`ISOLATION LEVEL ${settings.isolationLevel}`] : []), ...(settings.accessMode ? [settings.accessMode] : [])];
    await this.#client.request({ kind: 'begin', settings: modes });
    this.#transaction = { generation: this.#client.generation, aborted: false };
  }

  async commit(): Promise<void> {
    const state = this.#transaction;
    if (state?.aborted) {
      await this.rollback();
      throw new AbortedTransactionError();
    }
    this.#transaction = undefined;
    try {
      await this.#client.request({ kind: 'commit' }, state?.generation);
    } catch (error) {
      if ((error as { code?: unknown }).code === IN_FAILED_TRANSACTION) throw new AbortedTransactionError({ cause: error });
      throw error;
    }
  }

  async rollback(): Promise<void> {
    const state = this.#transaction;
    this.#transaction = undefined;
    await this.#client.request({ kind: 'rollback' }, state?.generation);
  }
}

/** What PostgreSQL answers to a statement in a transaction that a failure has aborted. */
function abortedError(): Error {
  const error = new Error('current transaction is aborted, commands ignored until end of transaction block');
  return Object.assign(error, { name: 'error', code: IN_FAILED_TRANSACTION, severity: 'ERROR' });
}

/** Appends the caller's stack to an error raised on the worker's reply, as Kysely's drivers do. */
function extendStackTrace(error: unknown, stackError: Error): unknown {
  if (error instanceof Error && error.stack && stackError.stack) {
    error.stack += `\n${stackError.stack.split('\n').slice(1).join('\n')}`;
  }
  return error;
}
