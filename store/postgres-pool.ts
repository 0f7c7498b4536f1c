import pg from 'pg';
import { logger } from './logger.ts';
import type { BackendPriority } from './backend-priority.ts';

const DATE_OID = 1082;
const INT8_OID = 20;

const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === DATE_OID) return (value: string) => value;
    if (oid === INT8_OID) {
      return (value: string) => {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : value;
      };
    }
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** The `-c` settings every session of a pool starts with. */
function sessionOptions(options: { workMem?: string | undefined; parallelWorkersPerGather?: number | undefined }): string {
  const settings = ['TimeZone=UTC', 'jit=off'];
  if (options.workMem) settings.push(`work_mem=${options.workMem}`);
  const workers = options.parallelWorkersPerGather;
  if (workers !== undefined) {
    if (!Number.isSafeInteger(workers) || workers < 0) throw new Error(`max_parallel_workers_per_gather must be a whole number >= 0 (got ${workers})`);
    settings.push(`max_parallel_workers_per_gather=${workers}`);
  }
  return settings.map((setting) => `-c ${setting}`).join(' ');
}

/**
 * A `pg` pool that survives a database restart: every idle and checked-out client gets an
 * error listener (node-postgres crashes the process on an unhandled client error), connects
 * time out instead of waiting forever, and statements carry a server-side timeout.
 */
export function createPostgresPool(
  connectionString: string,
  options: {
    poolSize?: number | undefined;
    statementTimeoutMs?: number | undefined;
    connectionTimeoutMs?: number | undefined;
    applicationName?: string | undefined;
    /** `work_mem` of the pool's sessions (the analytics pools: sorts and hashes of wide aggregates stay in memory). */
    workMem?: string | undefined;
    /** `max_parallel_workers_per_gather` of the pool's sessions (the analytics pools); unset: the database's. */
    parallelWorkersPerGather?: number | undefined;
    /** Lowers the CPU priority of the pool's backends (the analytics pools on this machine; `backend-priority.ts`). */
    backendPriority?: BackendPriority | undefined;
  },
): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    // Shown in pg_stat_activity: which of the server's pools a session belongs to.
    application_name: options.applicationName ?? 'strata',
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    // 0 sends none (pg leaves a falsy value out): the database default applies.
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    // Sessions run in UTC on both engines; reporting time zones are applied explicitly.
    // No JIT: the compiler's statements are wide (many CTEs and expressions), and compiling
    // them cost more than it saved (6.3 s of a 13.6 s funnel at a million customers).
    options: sessionOptions(options),
    types: typeParsers,
    verify: options.backendPriority?.verify,
  });
  // Parallel workers are started per query, at the postmaster's priority: follow them unless the sessions plan none.
  if (options.parallelWorkersPerGather !== 0) options.backendPriority?.followParallelWorkers(pool);
  pool.on('error', (error) => logger.warn({ err: error.message }, 'idle PostgreSQL client failed'));
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.warn({ err: error.message }, 'PostgreSQL client failed'));
  });
  return pool;
}
