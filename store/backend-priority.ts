import { readFileSync, writeFileSync } from 'node:fs';
import { getPriority, networkInterfaces, setPriority } from 'node:os';
import type pg from 'pg';
import { logger } from './logger.ts';

/**
 * The nice value given to the analytics connections' PostgreSQL backends when the database
 * runs on this machine and `STRATA_ANALYTICS_NICE` is unset: low enough that the app teams'
 * profile backends (nice 0) take a shared core first, not so low that a heavy query starves
 * while the machine is busy (a nice-10 process still gets about a tenth of a contended core).
 */
export const DEFAULT_ANALYTICS_NICE = 10;

/** How a backend's priority is lowered; tests replace it to simulate a refusal. */
export interface PriorityControl {
  /** Current nice value of a process (`os.getPriority`). */
  get(pid: number): number;
  /** Sets a process's nice value (`os.setPriority`); throws EPERM, ESRCH, ... like it. */
  set(pid: number, nice: number): void;
  /**
   * Sets the nice value of the process's scheduler autogroup when Linux groups processes by
   * session and the process leads a session of its own; a no-op elsewhere.
   */
  setGroup(pid: number, nice: number): void;
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
export function lowerBackendPriority(
  nice: number,
  poolName: string,
  control: PriorityControl = osPriorityControl,
): { verify: NonNullable<pg.PoolConfig['verify']> } {
  if (!Number.isSafeInteger(nice) || nice < 1 || nice > 19) throw new Error(`a backend nice value must be a whole number from 1 to 19 (got ${nice})`);
  let enabled = true;
  const turnOff = (reason: string, fields: Record<string, unknown> = {}) => {
    if (!enabled) return;
    enabled = false;
    logger.warn(
      { pool: poolName, nice, ...fields },
      `analytics backends keep their CPU priority: ${reason}; profile reads on this machine may slow down while heavy queries run (STRATA_ANALYTICS_NICE=0 silences this)`,
    );
  };
  const lower = (pid: number) => {
    // Connections opened together ask for their pids together: after a refusal the others stop here.
    if (!enabled) return;
    try {
      // Never raise a priority: a backend already nicer (a postmaster started with nice) keeps its own.
      if (control.get(pid) < nice) control.set(pid, nice);
      control.setGroup(pid, nice);
    } catch (error) {
      const code = (error as { info?: { code?: string }; code?: string }).info?.code ?? (error as { code?: string }).code;
      turnOff(code === 'EPERM' || code === 'EACCES' ? 'not permitted (run as root or as the PostgreSQL user)' : 'its process is not on this machine', {
        code,
        err: (error as Error).message,
      });
    }
  };
  return {
    verify(client, done) {
      if (!enabled) return done();
      client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then(
        ({ rows }) => {
          const pid = rows[0]?.pid;
          // A connection pooler in between answers with a key of its own: the backend behind
          // the connection is then neither fixed nor known by that pid.
          if (typeof pid !== 'number' || pid !== (client as { processID?: unknown }).processID) turnOff('the connection goes through a pooler');
          else if (!isPostgresProcess(pid)) turnOff('its process is not on this machine', { pid });
          else lower(pid);
          done();
        },
        // The connection failed: the query that needs it reports that, not this.
        () => done(),
      );
    },
  };
}

/**
 * The `verify` hook of an analytics pool on `connectionString`: lowers its backends' priority
 * to `nice` (unset: DEFAULT_ANALYTICS_NICE) when the database runs on this machine; none when
 * `nice` is 0 or the database is elsewhere (a priority configured explicitly says so once).
 */
export function analyticsBackendPriority(connectionString: string, nice: number | undefined, poolName: string): pg.PoolConfig['verify'] {
  const value = nice ?? DEFAULT_ANALYTICS_NICE;
  if (value === 0) return undefined;
  if (!isLocalDatabase(connectionString)) {
    if (nice !== undefined)
      logger.warn({ pool: poolName, nice }, 'analytics backends keep their CPU priority: the database is not on this machine (STRATA_ANALYTICS_NICE)');
    return undefined;
  }
  return lowerBackendPriority(value, poolName).verify;
}

/**
 * Whether the connection string names a database on this machine: a Unix socket, a loopback
 * address, `localhost`, or an address of one of this machine's network interfaces.
 */
export function isLocalDatabase(connectionString: string, defaultHost = process.env.PGHOST): boolean {
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

/** On Linux, whether `pid` runs the PostgreSQL executable (another program may hold a pid of a database in a container); elsewhere assumed. */
function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT' || !procMounted();
  }
}

const procMounted = () => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
};

/**
 * With Linux's autogroup scheduling (`kernel.sched_autogroup_enabled`, on in most desktop and
 * many server kernels), the CPU is shared between sessions first, and a nice value only
 * weighs within its own session. Every PostgreSQL backend leads a session of its own (it
 * calls setsid), so a backend's nice value alone changes nothing: its session's is what
 * competes with the profile backends and the server. The session's nice value is set only
 * for a backend that leads its session, so no other process shares the change.
 */
function setAutogroupNice(pid: number, nice: number): void {
  let enabled: string;
  try {
    enabled = readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim();
  } catch {
    return;
  }
  if (enabled !== '1') return;
  // Fields after the command name (which may hold spaces): state, ppid, pgrp, session, ...
  const session = Number(
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ')[3],
  );
  if (session !== pid) return;
  const current = Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1] ?? 0);
  if (current < nice) writeFileSync(`/proc/${pid}/autogroup`, String(nice));
}

const osPriorityControl: PriorityControl = { get: getPriority, set: setPriority, setGroup: setAutogroupNice };
