import { getPriority, networkInterfaces, setPriority } from 'node:os';
import type pg from 'pg';
import { logger } from './logger.ts';
import { isPostgresProcess, lowerAutogroupPriority, parallelWorkerFinder, parentPid } from './postgres-processes.ts';

/**
 * The nice value given to the analytics connections' PostgreSQL backends when the database
 * runs on this machine and `STRATA_ANALYTICS_NICE` is unset: low enough that the app teams'
 * profile backends (nice 0) take a shared core first, not so low that a heavy query starves
 * while the machine is busy (a nice-10 process still gets about a tenth of a contended core).
 */
export const DEFAULT_ANALYTICS_NICE = 10;

/** How often parallel workers are looked for while a pool that may start them runs queries. */
const PARALLEL_WORKER_SWEEP_MS = 200;

/** How a backend's priority is lowered; tests replace it to simulate a refusal. */
export interface PriorityControl {
  /** Current nice value of a process (`os.getPriority`). */
  get(pid: number): number;
  /** Sets a process's nice value (`os.setPriority`); throws EPERM, ESRCH, ... like it. */
  set(pid: number, nice: number): void;
  /** Lowers the process's scheduler autogroup (Linux, `postgres-processes.ts`); a no-op elsewhere. */
  setGroup(pid: number, nice: number): void;
}

const osPriorityControl: PriorityControl = { get: getPriority, set: setPriority, setGroup: lowerAutogroupPriority };

/** Lowers the CPU priority of the PostgreSQL processes behind one pool. */
export interface BackendPriority {
  /** pg-pool's `verify`: lowers a new connection's backend before its first query. */
  readonly verify: NonNullable<pg.PoolConfig['verify']>;
  /**
   * While `pool` has connections checked out, lowers the parallel workers their backends start:
   * PostgreSQL starts them per query, at the postmaster's priority. For pools whose sessions
   * may plan in parallel (`max_parallel_workers_per_gather` above 0).
   */
  followParallelWorkers(pool: pg.Pool): void;
}

/**
 * Lowers the CPU priority of the PostgreSQL backends behind one pool's connections (the
 * technique of Cybertec's pg_prioritize, from the client side): a backend is one process for
 * the life of its connection, so a connection's priority is set once, when the pool opens it
 * (`verify`, before its first query), and the pool's reuse of connections keeps it.
 *
 * A refusal (EPERM: the server runs as another user than PostgreSQL and not as root; ESRCH:
 * the backend is not a process of this machine) is logged once as a warning and turns the
 * lowering off for this pool: a connection is never refused because of it.
 *
 * ```ts
 * const pool = new pg.Pool({ connectionString, verify: lowerBackendPriority(10, 'strata-analytics').verify });
 * ```
 */
export function lowerBackendPriority(nice: number, poolName: string, control: PriorityControl = osPriorityControl): BackendPriority {
  if (!Number.isSafeInteger(nice) || nice < 1 || nice > 19) throw new Error(`a backend nice value must be a whole number from 1 to 19 (got ${nice})`);
  let enabled = true;
  /** Lowered backends and their postmaster, for their parallel workers. */
  const leaders = new Map<number, number>();
  const turnOff = (reason: string, fields: Record<string, unknown> = {}) => {
    if (!enabled) return;
    enabled = false;
    logger.warn(
      { pool: poolName, nice, ...fields },
      `analytics backends keep their CPU priority: ${reason}; profile reads on this machine may slow down while heavy queries run (STRATA_ANALYTICS_NICE=0 silences this)`,
    );
  };
  /** `mayHaveEnded`: a parallel worker may end between being found and lowered, which is no refusal. */
  const lower = (pid: number, mayHaveEnded = false): boolean => {
    // Connections opened together ask for their pids together: after a refusal the others stop here.
    if (!enabled) return false;
    try {
      // Never raise a priority: a backend already nicer (a postmaster started with nice) keeps its own.
      if (control.get(pid) < nice) control.set(pid, nice);
      control.setGroup(pid, nice);
      return true;
    } catch (error) {
      const code = (error as { info?: { code?: string }; code?: string }).info?.code ?? (error as { code?: string }).code;
      if (mayHaveEnded && (code === 'ESRCH' || code === 'ENOENT')) return false;
      const reason = code === 'EPERM' || code === 'EACCES' ? 'not permitted (run as root or as the PostgreSQL user)' : 'its process is not on this machine';
      turnOff(reason, { code, err: (error as Error).message });
      return false;
    }
  };
  const lowerBackend = (client: pg.PoolClient, pid: unknown) => {
    // A connection pooler in between answers with a key of its own: the backend behind the
    // connection is then neither fixed nor known by that pid.
    if (typeof pid !== 'number' || pid !== (client as { processID?: unknown }).processID) return turnOff('the connection goes through a pooler');
    if (!isPostgresProcess(pid)) return turnOff('its process is not on this machine', { pid });
    const postmaster = parentPid(pid);
    if (lower(pid) && postmaster !== undefined) {
      leaders.set(pid, postmaster);
      client.once('end', () => leaders.delete(pid));
    }
  };
  return {
    verify(client, done) {
      if (!enabled) return done();
      client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then(
        ({ rows }) => {
          lowerBackend(client, rows[0]?.pid);
          done();
        },
        // The connection failed: the query that needs it reports that, not this.
        () => done(),
      );
    },
    followParallelWorkers(pool) {
      const find = parallelWorkerFinder();
      let checkedOut = 0;
      let timer: NodeJS.Timeout | undefined;
      let sweeping = false;
      const sweep = () => {
        if (sweeping || !enabled || leaders.size === 0) return;
        sweeping = true;
        find(leaders)
          .then((workers) => {
            for (const worker of workers) lower(worker, true);
          })
          .catch(() => {})
          .finally(() => {
            sweeping = false;
          });
      };
      pool.on('acquire', () => {
        checkedOut += 1;
        timer ??= setInterval(sweep, PARALLEL_WORKER_SWEEP_MS).unref();
      });
      pool.on('release', () => {
        checkedOut -= 1;
        if (checkedOut > 0 || timer === undefined) return;
        clearInterval(timer);
        timer = undefined;
      });
    },
  };
}

/**
 * The priority of an analytics pool on `connectionString`: lowers its backends to `nice`
 * (unset: DEFAULT_ANALYTICS_NICE) when the database runs on this machine; none when `nice` is
 * 0 or the database is elsewhere (a priority configured explicitly says so once).
 * `defaultHost`: where a connection string without a host connects (`PGHOST`).
 */
export function analyticsBackendPriority(
  connectionString: string,
  nice: number | undefined,
  poolName: string,
  defaultHost?: string,
): BackendPriority | undefined {
  const value = nice ?? DEFAULT_ANALYTICS_NICE;
  if (value === 0) return undefined;
  if (!isLocalDatabase(connectionString, defaultHost)) {
    if (nice !== undefined)
      logger.warn({ pool: poolName, nice }, 'analytics backends keep their CPU priority: the database is not on this machine (STRATA_ANALYTICS_NICE)');
    return undefined;
  }
  return lowerBackendPriority(value, poolName);
}

/**
 * Whether the connection string names a database on this machine: a Unix socket, a loopback
 * address, `localhost`, or an address of one of this machine's network interfaces. A string
 * without a host connects to `defaultHost` (the configuration's `PGHOST`), else to localhost.
 */
export function isLocalDatabase(connectionString: string, defaultHost?: string): boolean {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return false;
  }
  if (url.protocol === 'socket:') return true;
  const host = url.searchParams.get('host') ?? (decodeURIComponent(url.hostname) || defaultHost || 'localhost');
  if (host.startsWith('/')) return true;
  const address = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (address === 'localhost' || address === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(address)) return true;
  return Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.address.toLowerCase() === address));
}
