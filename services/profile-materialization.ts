import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { Database } from '../store/database.ts';
import { profileSql, type AudienceRule } from '../modeling/tags/profile-sql.ts';
import { latestDataDateSql } from '../modeling/tags/latest-date-sql.ts';
import { completeTags, orderTags } from '../modeling/tags/check-tag.ts';
import { leaves } from '../modeling/conditions/rule.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import type { TagSubject } from '../modeling/tags/tag-subject.ts';
import { StrataError } from '../modeling/errors.ts';
import { logger } from '../store/logger.ts';
import type { AnalyticsLane } from './analytics-lane.ts';

export interface MaterializationRun {
  readonly runId: number;
  readonly asOf: string;
  readonly customers: number;
  readonly seconds: number;
  /** Per tag: customers with a value, and customers per value. */
  readonly coverage: Readonly<Record<string, { readonly covered: number; readonly values: Readonly<Record<string, number>> }>>;
}

export interface MaterializationInput {
  readonly database: Database;
  readonly subject: TagSubject;
  /** Tags consumers see (PUBLISHED and DEPRECATED), in any order. */
  readonly tags: readonly TagDefinition[];
  /** Read inside the materialization's transaction, after its lock: an audience created meanwhile is not lost. */
  readonly audiences: (db: Kysely<DatabaseSchema>) => Promise<readonly AudienceRule[]>;
  readonly asOf?: string;
  readonly actor: string;
  readonly onProgress?: (done: number, total: number, stage: string) => void;
  /** Runs the materialization in the server's analytics lane (a slot and its connection); unset: on `database.db`. */
  readonly lane?: AnalyticsLane;
}

/** Advisory lock held by a materialization, and by audience changes to the snapshot. */
export const SNAPSHOT_LOCK = 732_001;

/** Today's UTC date: the as-of date when no tag aggregates any dated data. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * Computes every customer's tags and audience memberships as of a date into a new run,
 * then flips the current-snapshot pointer in one transaction: a reader sees the old
 * snapshot or the new one, never a mix. Older runs are removed after the flip.
 */
export async function materializeProfiles(input: MaterializationInput): Promise<MaterializationRun> {
  return input.lane ? input.lane.run((db) => materializeWith(db, input)) : materializeWith(input.database.db, input);
}

async function materializeWith(db: Kysely<DatabaseSchema>, input: MaterializationInput): Promise<MaterializationRun> {
  const started = performance.now();
  const progress = input.onProgress ?? (() => {});
  const { complete, incomplete } = completeTags(input.tags);
  if (incomplete.length > 0) logger.warn({ tags: incomplete.map((t) => t.key) }, 'tags reading a tag that is no longer live are skipped');
  const ordered = orderTags(complete);
  const usable = new Set(ordered.map((t) => t.key));
  const readsOnlyUsableTags = (a: AudienceRule) => leaves(a.rule).every((l) => l.kind !== 'tag' || usable.has(l.tag));
  progress(0, 4, 'choosing the as-of date');
  const asOf = input.asOf ?? (await latestDataDateSql(input.subject, ordered, []).execute(db)).rows[0]?.latest ?? today();
  try {
    // One transaction: the new run's rows and the pointer flip commit together.
    const run = await db.transaction().execute(async (trx) => {
      const locked = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(${SNAPSHOT_LOCK}) AS locked`.execute(trx);
      if (!locked.rows[0]?.locked) throw new StrataError('CONFLICT', 'a materialization is already running; retry when it has finished');
      const audiences = (await input.audiences(trx)).filter(readsOnlyUsableTags);
      const { run_id: runId } = await trx.insertInto('strata.tag_runs').values({ as_of: asOf, status: 'running', actor: input.actor }).returning('run_id').executeTakeFirstOrThrow();
      progress(1, 4, `computing ${ordered.length} tags for every customer as of ${asOf}`);
      await sql`INSERT INTO strata.customer_profiles (run_id, customer_id, tags, audiences)
        SELECT ${runId}, p.k, p.tags, p.audiences FROM (${profileSql(input.subject, ordered, audiences, asOf)}) AS p`.execute(trx);
      progress(2, 4, 'recording coverage');
      const coverage = await coverageOf(trx, runId);
      const customers = Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.customer_profiles WHERE run_id = ${runId}`.execute(trx)).rows[0]?.n ?? 0);
      progress(3, 4, 'publishing the snapshot');
      await trx.updateTable('strata.tag_runs').set({ status: 'succeeded', finished_at: new Date(), customers, coverage: JSON.stringify(coverage) }).where('run_id', '=', runId).execute();
      await trx.updateTable('strata.profile_snapshot').set({ run_id: runId, as_of: asOf, published_at: new Date() }).where('id', '=', 1).execute();
      return { runId, customers, coverage };
    });
    await db.deleteFrom('strata.customer_profiles').where('run_id', '<>', run.runId).execute();
    progress(4, 4, 'done');
    return { ...run, asOf, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    if (!(error instanceof StrataError)) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'tag materialization failed');
      await db.insertInto('strata.tag_runs').values({ as_of: asOf, status: 'failed', actor: input.actor, error: error instanceof Error ? error.message.slice(0, 500) : String(error) }).execute();
    }
    throw error;
  }
}

async function coverageOf(db: Kysely<DatabaseSchema>, runId: number): Promise<MaterializationRun['coverage']> {
  const { rows } = await sql<{ key: string; value: string | null; customers: number }>`
    SELECT t.key, t.value #>> '{}' AS value, COUNT(*) AS customers
    FROM strata.customer_profiles p, jsonb_each(p.tags) AS t
    WHERE p.run_id = ${runId} GROUP BY 1, 2`.execute(db);
  const coverage: Record<string, { covered: number; values: Record<string, number> }> = {};
  for (const row of rows) {
    const entry = (coverage[row.key] ??= { covered: 0, values: {} });
    if (row.value === null) continue;
    entry.covered += Number(row.customers);
    entry.values[row.value] = Number(row.customers);
  }
  return coverage;
}
