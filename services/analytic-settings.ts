import { sql, type Kysely } from 'kysely';

/** Settings of one expensive analytic read, set for its transaction only. */
export interface AnalyticSettings {
  /** `work_mem` for its sorts and hashes (e.g. `64MB`); the server's default otherwise. */
  readonly workMem?: string;
  /**
   * Group by hashing (`enable_sort` off, `hash_mem_multiplier` 4): for groups PostgreSQL
   * cannot estimate but that are few. Hash tables may then grow to 4 x `work_mem` before
   * they spill; without the multiplier a hash estimated above 2 x `work_mem` is not planned at all.
   * `parallel_tuple_cost` 0.01 (a tenth of the default): estimating one group per row, the
   * planner charges the Gather above each worker's partial groups for every row scanned and
   * chose a serial plan for a million customers whose 158,734 combinations crossed it.
   */
  readonly hashGroups?: boolean;
  /**
   * Join by hashing (`enable_mergejoin` off): for joins of materialized CTEs, whose row
   * counts PostgreSQL cannot see (it guesses low and sorts both sides for a merge join).
   */
  readonly hashJoins?: boolean;
}

/**
 * Runs `work` in one transaction with `work_mem` raised (and hashed grouping) when asked,
 * `SET LOCAL`, so nothing outlives it. JIT compilation is off for every PostgreSQL session
 * (`store/postgres-pool.ts`): at 1,000,000 customers it spent 1.4 s compiling a comparison
 * that ran 3 s and 5 to 7 s per level of an attribution tree (EXPLAIN's `JIT: Timing`).
 * Read-only, so it runs on a read replica too.
 *
 * ```ts
 * const rows = await withAnalyticSettings(db, (trx) => statement.execute(trx), { workMem: '64MB' });
 * ```
 */
export function withAnalyticSettings<T, DB>(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<T>, settings: AnalyticSettings = {}): Promise<T> {
  const run = async (trx: Kysely<DB>) => {
    if (settings.workMem !== undefined) await sql`SELECT set_config('work_mem', ${settings.workMem}, true)`.execute(trx);
    if (settings.hashGroups) {
      await sql`SELECT set_config('enable_sort', 'off', true)`.execute(trx);
      await sql`SELECT set_config('hash_mem_multiplier', '4', true)`.execute(trx);
      await sql`SELECT set_config('parallel_tuple_cost', '0.01', true)`.execute(trx);
    }
    if (settings.hashJoins) await sql`SELECT set_config('enable_mergejoin', 'off', true)`.execute(trx);
    return work(trx);
  };
  // Inside a caller's transaction the settings last until its end.
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/**
 * Insight's grouped statements (comparison, tree levels, deciles): their customers fall into
 * a few tens of thousands of combinations of feature values (31,451 for 10 features at
 * 1,000,000 customers), a hash table of a few MB, but PostgreSQL cannot estimate the groups
 * of tag and bin expressions (it assumes one per customer) and sorts a million wide rows
 * instead (24 s of a 34 s statement on a busy machine, spilled to disk): it hashes (the
 * combinations' table took 33 MB).
 */
export const INSIGHT_SETTINGS: AnalyticSettings = { workMem: '64MB', hashGroups: true };

/**
 * Experiment results: the exposures deduplicated by customer are one hash table of every
 * exposed customer (about 100 MB at 1,000,000), which spills in batches at the default.
 */
export const RESULTS_SETTINGS: AnalyticSettings = {};

/**
 * Funnels (modeling/sql/funnel-sql.ts): each step joins the previous step's customers to the
 * later steps' events, both materialized CTEs. PostgreSQL estimated 91,764 entries and 9,176
 * step-2 customers for 157,851 and 111,332 (the 4-step funnel of a month by channel at
 * 1,000,000 customers) and sorted 433,835 events for merge joins; hashed, the statement took
 * 1.93 to 2.06 s against 2.38 to 2.48 s (four alternating runs each, quiet machine).
 */
export const FUNNEL_SETTINGS: AnalyticSettings = { hashJoins: true };
