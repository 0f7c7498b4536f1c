import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createTestDatabase, isPostgresReachable } from './support/engines.ts';
import { openDatabase } from '../store/database.ts';
import { createPostgresPool } from '../store/postgres-pool.ts';
import { analyticsBackendPriority, DEFAULT_ANALYTICS_NICE, isLocalDatabase, lowerBackendPriority, type PriorityControl } from '../store/backend-priority.ts';
import { logger } from '../store/logger.ts';
import { databaseOptions, loadConfig } from '../api/config.ts';
import type { DatabaseSchema } from '../store/schema.ts';

/**
 * Heavy metric queries must leave the CPU to the app teams' profile reads when PostgreSQL
 * shares the machine (issue 13: profile p99 under 8 heavy metric queries): the analytics
 * connections' backends run at a lower CPU priority, the profile, event and probe
 * connections' keep the database's.
 */
const postgres = await isPostgresReachable();
const ADMIN_URL = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const backendPid = async (db: Kysely<DatabaseSchema>) => (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]!.pid;

/** The nice value of a process's Linux scheduler autogroup, when the kernel groups by session. */
function autogroupNice(pid: number): number | undefined {
  try {
    if (readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() !== '1') return undefined;
    return Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

/** A control that refuses like `os.setPriority` does, counting its calls. */
function refusingControl(code: 'EPERM' | 'ESRCH') {
  const calls: number[] = [];
  const control: PriorityControl = {
    get: () => 0,
    set: (pid) => {
      calls.push(pid);
      throw Object.assign(new Error(`A system error occurred: uv_os_setpriority returned ${code}`), { code: 'ERR_SYSTEM_ERROR', info: { code } });
    },
    setGroup: () => {},
  };
  return { control, calls };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('CPU priority of the analytics backends', () => {
  it('applies to databases on this machine only: Unix sockets, loopback addresses, localhost', () => {
    expect(isLocalDatabase('postgres://postgres@127.0.0.1:5432/strata')).toBe(true);
    expect(isLocalDatabase('postgres://app:secret@localhost/strata')).toBe(true);
    expect(isLocalDatabase('postgres://[::1]:5432/strata')).toBe(true);
    expect(isLocalDatabase('postgres:///strata?host=/var/run/postgresql')).toBe(true);
    expect(isLocalDatabase('postgres://%2Fvar%2Frun%2Fpostgresql/strata')).toBe(true);
    expect(isLocalDatabase('socket:/var/run/postgresql?db=strata')).toBe(true);
    expect(isLocalDatabase('postgres:///strata', undefined)).toBe(true);
    expect(isLocalDatabase('postgres:///strata', 'db.example.com')).toBe(false);
    expect(isLocalDatabase('postgres://db.example.com:5432/strata')).toBe(false);
    expect(isLocalDatabase('postgres://192.0.2.10/strata')).toBe(false);
    expect(isLocalDatabase('not a url')).toBe(false);
  });

  it('is configured by STRATA_ANALYTICS_NICE (0 to 19), unset by default', () => {
    const config = loadConfig({ STRATA_ANALYTICS_NICE: '7' });
    expect(config.analyticsNice).toBe(7);
    expect(databaseOptions(config).analyticsNice).toBe(7);
    expect(loadConfig({}).analyticsNice).toBeUndefined();
    expect(() => loadConfig({ STRATA_ANALYTICS_NICE: '20' })).toThrow(/STRATA_ANALYTICS_NICE/);
    expect(() => loadConfig({ STRATA_ANALYTICS_NICE: '-5' })).toThrow(/STRATA_ANALYTICS_NICE/);
  });

  it('is off for a database elsewhere, and says so once when it was configured', () => {
    const warn = vi.spyOn(logger, 'warn');
    expect(analyticsBackendPriority('postgres://db.example.com/strata', undefined, 'strata-analytics')).toBeUndefined();
    expect(warn).not.toHaveBeenCalled();
    expect(analyticsBackendPriority('postgres://db.example.com/strata', 5, 'strata-analytics')).toBeUndefined();
    expect(warn).toHaveBeenCalledOnce();
    expect(analyticsBackendPriority('postgres://127.0.0.1/strata', 0, 'strata-analytics')).toBeUndefined();
    expect(analyticsBackendPriority('postgres://127.0.0.1/strata', undefined, 'strata-analytics')).toBeDefined();
  });

  it.runIf(postgres)('lowers the analytics backends to the configured value, for the life of the connection; the other pools keep theirs', async () => {
    const database = await openDatabase({ databaseUrl: ADMIN_URL, poolSize: 1, analyticsPoolSize: 1, analyticsNice: 7 });
    try {
      const analytics = await backendPid(database.analytics);
      expect(getPriority(analytics)).toBe(7);
      const group = autogroupNice(analytics);
      if (group !== undefined) expect(group).toBe(7);
      // The pool reuses the connection: the same backend, still lowered.
      expect(await backendPid(database.analytics)).toBe(analytics);
      expect(getPriority(analytics)).toBe(7);
      const main = await backendPid(database.db);
      const probe = await backendPid(database.probe);
      expect(getPriority(main)).toBe(0);
      expect(getPriority(probe)).toBe(0);
      expect(autogroupNice(main) ?? 0).toBe(0);
    } finally {
      await database.close();
    }
  });

  it.runIf(postgres)('defaults to DEFAULT_ANALYTICS_NICE on this machine, and 0 leaves the backends alone', async () => {
    const byDefault = await openDatabase({ databaseUrl: ADMIN_URL, poolSize: 1, analyticsPoolSize: 1 });
    const off = await openDatabase({ databaseUrl: ADMIN_URL, poolSize: 1, analyticsPoolSize: 1, analyticsNice: 0 });
    try {
      expect(getPriority(await backendPid(byDefault.analytics))).toBe(DEFAULT_ANALYTICS_NICE);
      const untouched = await backendPid(off.analytics);
      expect(getPriority(untouched)).toBe(0);
      expect(autogroupNice(untouched) ?? 0).toBe(0);
    } finally {
      await Promise.all([byDefault.close(), off.close()]);
    }
  });

  it.runIf(postgres)('when the system refuses (EPERM, ESRCH), warns once, turns itself off, and every query still answers', async () => {
    for (const code of ['EPERM', 'ESRCH'] as const) {
      const warn = vi.spyOn(logger, 'warn');
      const { control, calls } = refusingControl(code);
      const pool = createPostgresPool(ADMIN_URL, { poolSize: 3, backendPriority: lowerBackendPriority(10, 'strata-analytics', control) });
      try {
        // Three connections opened at once, then reused: each query answers.
        const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => pool.query<{ n: number }>('SELECT $1::int AS n', [n])));
        expect(answers.map((a) => a.rows[0]?.n)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(pool.totalCount).toBeGreaterThan(1);
        expect(calls).toHaveLength(1);
        const warnings = warn.mock.calls.filter(([, message]) => String(message).includes('keep their CPU priority'));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]?.[0]).toMatchObject({ code, pool: 'strata-analytics' });
        expect(getPriority(calls[0]!)).toBe(0);
      } finally {
        await pool.end();
        warn.mockRestore();
      }
    }
  });

  it.runIf(postgres)('lowers the parallel workers an analytics query starts, which PostgreSQL starts at its own priority', async () => {
    const scratch = await createTestDatabase('postgres', { migrate: false });
    const database = await openDatabase({ databaseUrl: scratch.url, poolSize: 1, analyticsPoolSize: 1, analyticsParallelWorkers: 2, analyticsNice: 9 });
    try {
      await sql`CREATE TABLE rows_to_scan AS SELECT g FROM generate_series(1, 20000) AS g`.execute(database.db);
      const leader = await backendPid(database.analytics);
      // About 2 s of sleeping split over a leader and two workers, planned in parallel whatever the table's size.
      const query = database.analytics.transaction().execute(async (trx) => {
        await sql`SET LOCAL parallel_setup_cost = 0`.execute(trx);
        await sql`SET LOCAL parallel_tuple_cost = 0`.execute(trx);
        await sql`SET LOCAL min_parallel_table_scan_size = 0`.execute(trx);
        return sql`SELECT count(*) AS n FROM rows_to_scan WHERE pg_sleep(0.0001) IS NOT NULL`.execute(trx);
      });
      let running = true;
      void query.finally(() => {
        running = false;
      });
      const seen = new Map<number, number>();
      while (running) {
        const workers = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE leader_pid = ${leader} AND pid <> ${leader}`.execute(database.db);
        for (const { pid } of workers.rows) {
          try {
            seen.set(pid, getPriority(pid));
          } catch {
            // the worker ended between the two looks
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await query).rows[0]).toMatchObject({ n: 20000 });
      expect(seen.size).toBeGreaterThan(0);
      expect([...seen.values()]).toContain(9);
      expect(getPriority(await backendPid(database.db))).toBe(0);
    } finally {
      await database.close();
      await scratch.dispose();
    }
  });

  it('leaves PGlite alone: it runs inside this process', async () => {
    const before = getPriority();
    const database = await openDatabase({ dataDir: 'memory://', analyticsNice: 19 });
    try {
      expect((await sql<{ n: number }>`SELECT 1 AS n`.execute(database.analytics)).rows).toEqual([{ n: 1 }]);
      expect(getPriority()).toBe(before);
    } finally {
      await database.close();
    }
  });
});
