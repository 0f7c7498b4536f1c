import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseConnection, Dialect } from 'kysely';
import { wrappingConnections } from './connection-wrapping.ts';

/**
 * Cancellation of the database work of one caller (a SQL client's cancel request): every
 * statement Kysely runs inside `scope.run(work)` is registered with the scope while it
 * runs, so `scope.cancel()` can stop it in the database. On PostgreSQL Kysely's own
 * `cancelQuery` sends `pg_cancel_backend` for the backend running it, from a control
 * connection of its own, only while that statement is still the one running (Kysely checks
 * its query id, so a backend that moved on to another caller's statement is left alone);
 * the statement then fails with SQLSTATE 57014. A statement the scope would start after the
 * cancel fails with 57014 before it reaches the database. PGlite (WebAssembly, not
 * interruptible) has no `cancelQuery`: a statement already running there runs to its end.
 */
export interface CancelScope {
  /** Runs `work`; the statements it runs belong to this scope. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Cancels: statements running now are cancelled in the database where the engine can, no
   * new one starts. Resolves with how it went: `stopping` when every running statement was
   * sent a cancel (the work ends with 57014 once the database stopped it), `not running`
   * when no statement ran (the work fails at its next statement), `uninterruptible` when a
   * statement runs where it cannot be stopped (PGlite).
   */
  cancel(): Promise<'stopping' | 'not running' | 'uninterruptible'>;
  readonly cancelled: boolean;
}

interface Running {
  readonly connection: DatabaseConnection;
}

const scopes = new AsyncLocalStorage<ScopeState>();

interface ScopeState {
  cancelled: boolean;
  readonly running: Set<Running>;
}

/** PostgreSQL's error for a statement cancelled on request (SQLSTATE 57014, query_canceled). */
export function queryCanceledError(): Error {
  return Object.assign(new Error('canceling statement due to user request'), { code: '57014', severity: 'ERROR' });
}

export function createCancelScope(): CancelScope {
  const state: ScopeState = { cancelled: false, running: new Set() };
  return {
    run: (work) => scopes.run(state, work),
    get cancelled() {
      return state.cancelled;
    },
    async cancel() {
      state.cancelled = true;
      const running = [...state.running];
      if (running.length === 0) return 'not running';
      if (running.some((r) => !r.connection.cancelQuery)) return 'uninterruptible';
      await Promise.all(
        running.map((r) =>
          r.connection
            .cancelQuery?.(() => {
              // Kysely asks for a pool connection only when its dialect has no control client; pg's pools always have one.
              throw new Error('no control connection to send the cancel from');
            })
            // A statement that ended meanwhile has nothing left to cancel (Kysely then finds no query id).
            .catch(() => undefined),
        ),
      );
      return 'stopping';
    },
  };
}

/**
 * A dialect whose statements register with the cancel scope they run in (see `CancelScope`);
 * outside a scope nothing changes. Wraps each connection once, in place, as `tracedDialect`.
 */
export function cancellableDialect(dialect: Dialect): Dialect {
  return wrappingConnections(dialect, (connection) => {
    const execute = connection.executeQuery.bind(connection);
    connection.executeQuery = async (query, options) => {
      const scope = scopes.getStore();
      if (!scope) return execute(query, options);
      if (scope.cancelled) throw queryCanceledError();
      // The backend's pid (pg's processID) must be known before a cancel can name it.
      await connection.collectSessionInfo?.();
      const running: Running = { connection };
      scope.running.add(running);
      try {
        return await execute(query, options);
      } finally {
        scope.running.delete(running);
      }
    };
  });
}
