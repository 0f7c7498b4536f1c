import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { isPostgresReachable } from './support/engines.ts';
import { openDatabase } from '../store/database.ts';
import { databaseOptions, loadConfig } from '../api/config.ts';
import { defaultAnalyticsParallelWorkers } from '../services/analytics-lane.ts';

/**
 * Heavy metric queries must leave a core to the app teams' profile reads when the database
 * shares the machine: with parallel workers, one query of the analytics lane takes a leader
 * and two workers, so on 2 cores the lane's cap of 1 did not keep a core free (issue 13:
 * profile p99 under 8 heavy metric queries). The analytics connections get their own
 * `max_parallel_workers_per_gather`; the app's connections keep the database's.
 */
const postgres = await isPostgresReachable();
const ADMIN_URL = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('parallel workers of the analytics connections', () => {
  it('by default leaves one core for profile reads besides the lane, at most PostgreSQL default of 2', () => {
    expect(defaultAnalyticsParallelWorkers(1, 2)).toBe(0);
    expect(defaultAnalyticsParallelWorkers(3, 4)).toBe(0);
    expect(defaultAnalyticsParallelWorkers(4, 6)).toBe(1);
    expect(defaultAnalyticsParallelWorkers(4, 16)).toBe(2);
  });

  it('is configured by STRATA_ANALYTICS_PARALLEL_WORKERS, derived from the lane concurrency otherwise', () => {
    expect(loadConfig({ STRATA_ANALYTICS_PARALLEL_WORKERS: '3' }).analyticsParallelWorkers).toBe(3);
    const derived = loadConfig({ STRATA_ANALYTICS_CONCURRENCY: '1' });
    expect(derived.analyticsParallelWorkers).toBe(defaultAnalyticsParallelWorkers(1));
    expect(databaseOptions(derived).analyticsParallelWorkers).toBe(derived.analyticsParallelWorkers);
    expect(() => loadConfig({ STRATA_ANALYTICS_PARALLEL_WORKERS: '-1' })).toThrow(/STRATA_ANALYTICS_PARALLEL_WORKERS/);
  });

  it.runIf(postgres)('applies to the analytics sessions only, on PostgreSQL', async () => {
    const database = await openDatabase({ databaseUrl: ADMIN_URL, poolSize: 1, analyticsPoolSize: 1, analyticsParallelWorkers: 0 });
    try {
      const setting = async (db: typeof database.db) =>
        (await sql<{ v: string }>`SELECT current_setting('max_parallel_workers_per_gather') AS v`.execute(db)).rows[0]?.v;
      const serverDefault = (
        await sql<{ v: string }>`SELECT reset_val AS v FROM pg_settings WHERE name = 'max_parallel_workers_per_gather'`.execute(database.probe)
      ).rows[0]?.v;
      expect(await setting(database.analytics)).toBe('0');
      expect(await setting(database.db)).toBe(serverDefault);
    } finally {
      await database.close();
    }
  });
});
