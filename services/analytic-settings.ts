import { sql, type Kysely } from 'kysely';

/** Settings of one expensive analytic read, set for its transaction only. */
export interface AnalyticSettings {
  /** `work_mem` for its sorts and hashes (e.g. `64MB`); the server's default otherwise. */
  readonly workMem?: string;
}

/**
 * Runs `work` in one transaction with JIT compilation off (and `work_mem` raised when
 * asked), both `SET LOCAL`, so nothing outlives it. At 1,000,000 customers PostgreSQL's JIT
 * spent 1.4 s compiling a comparison that ran 3 s and 5 to 7 s per level of an attribution
 * tree (EXPLAIN's `JIT: Timing`), more than the wide GROUPING SETS statements gain from
 * it. Read-only, so it runs on a read replica too.
 *
 * ```ts
 * const rows = await withAnalyticSettings(db, (trx) => statement.execute(trx), { workMem: '64MB' });
 * ```
 */
export function withAnalyticSettings<T, DB>(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<T>, settings: AnalyticSettings = {}): Promise<T> {
  const run = async (trx: Kysely<DB>) => {
    await sql`SELECT set_config('jit', 'off', true)`.execute(trx);
    if (settings.workMem !== undefined) await sql`SELECT set_config('work_mem', ${settings.workMem}, true)`.execute(trx);
    return work(trx);
  };
  // Inside a caller's transaction the settings last until its end.
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/**
 * Insight's grouped statements (comparison, tree levels, deciles): their hash tables hold a
 * few hundred groups, but PostgreSQL cannot estimate the groups of tag and bin expressions
 * and, at the default 4 MB, sorts a million rows for some of the grouping sets instead.
 */
export const INSIGHT_SETTINGS: AnalyticSettings = { workMem: '64MB' };

/**
 * Experiment results: the exposures deduplicated by customer are one hash table of every
 * exposed customer (about 100 MB at 1,000,000), which spills in batches at the default.
 */
export const RESULTS_SETTINGS: AnalyticSettings = { workMem: '64MB' };
