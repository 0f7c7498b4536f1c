import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { Database } from '../store/database.ts';
import { profileSql, type AudienceRule } from '../modeling/tags/profile-sql.ts';
import { completeTags, orderTags } from '../modeling/tags/check-tag.ts';
import { leaves } from '../modeling/conditions/rule.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import type { TagSubject } from '../modeling/tags/tag-subject.ts';
import { StrataError } from '../modeling/errors.ts';
import type { ProgressListener } from '../modeling/progress.ts';
import { logger } from '../store/logger.ts';
import { chooseAsOf, today } from './materialization-as-of.ts';
import { DEFAULT_MAX_DRIFT, describeDrift, distributionDrift, excessiveDrift, type Coverage } from './materialization-drift.ts';
import {
  flipSnapshot,
  lockSnapshotOrRefuse,
  publishedRun,
  removeUnservedRows,
  runFromRow,
  supersedeHeldRuns,
  type MaterializationRun,
} from './materialization-runs.ts';
import type { AnalyticsLane } from './analytics-lane.ts';

export { SNAPSHOT_LOCK, type MaterializationRun } from './materialization-runs.ts';
export { today } from './materialization-as-of.ts';

export interface MaterializationInput {
  readonly database: Database;
  readonly subject: TagSubject;
  /** Tags consumers see (PUBLISHED and DEPRECATED), in any order. */
  readonly tags: readonly TagDefinition[];
  /** Read inside the materialization's transaction, after its lock: an audience created meanwhile is not lost. */
  readonly audiences: (db: Kysely<DatabaseSchema>) => Promise<readonly AudienceRule[]>;
  /** Adds the members of audiences no rule describes (lookalikes) to the new run's rows, after the rule audiences. */
  readonly refreshModelAudiences?: (db: Kysely<DatabaseSchema>, run: { runId: number; asOf: string }) => Promise<void>;
  /** `YYYY-MM-DD` inside the data range; default: the last date every source has data. */
  readonly asOf?: string;
  readonly actor: string;
  /** A run moving more than this share of customers in any tag is held (default 0.2). */
  readonly maxDrift?: number;
  /**
   * Longest one statement of the run may run, in place of the interactive limit
   * (`STRATA_STATEMENT_TIMEOUT_MS`): computing every customer's tags is a batch job that takes
   * a minute or more at a million customers. 0: none. Default: DEFAULT_MATERIALIZE_STATEMENT_TIMEOUT_MS.
   */
  readonly statementTimeoutMs?: number;
  /** Publish even when the drift guard would hold the run (the CLI's `--force`). */
  readonly force?: boolean;
  /** The clock deciding "today" for the data range (default: now). */
  readonly now?: Date;
  /** Step n of 4: choosing the as-of date, computing, recording coverage and drift, publishing or holding. */
  readonly onProgress?: ProgressListener;
  /** Runs the materialization in the server's analytics lane (a slot and its connection); unset: on `database.db`. */
  readonly lane?: AnalyticsLane;
}

/** The statement limit of a materialization: ten minutes. */
export const DEFAULT_MATERIALIZE_STATEMENT_TIMEOUT_MS = 600_000;

/**
 * Computes every customer's tags and audience memberships as of a date into a new run. When
 * no tag's value distribution moved more than `maxDrift` of the customers from the published
 * snapshot (or none exists, or `force`), the current-snapshot pointer flips in the same
 * transaction: a reader sees the old snapshot or the new one, never a mix. Otherwise the run
 * is kept `held`, unread, until an approver publishes it. Rows of runs that can no longer be
 * served are removed afterwards.
 */
export async function materializeProfiles(input: MaterializationInput): Promise<MaterializationRun> {
  return input.lane ? input.lane.run((db) => materializeWith(db, input)) : materializeWith(input.database.db, input);
}

async function materializeWith(db: Kysely<DatabaseSchema>, input: MaterializationInput): Promise<MaterializationRun> {
  const started = performance.now();
  const progress = (step: number, stage: string) => input.onProgress?.({ step, steps: 4, stage });
  const { complete, incomplete } = completeTags(input.tags);
  if (incomplete.length > 0) logger.warn({ tags: incomplete.map((t) => t.key) }, 'tags reading a tag that is no longer live are skipped');
  const ordered = orderTags(complete);
  const usable = new Set(ordered.map((t) => t.key));
  const readsOnlyUsableTags = (a: AudienceRule) => leaves(a.rule).every((l) => l.kind !== 'tag' || usable.has(l.tag));
  let asOf = input.asOf ?? '';
  try {
    // One transaction: the new run's rows, its verdict and the pointer flip commit together.
    const run = await db.transaction().execute(async (trx) => {
      await lockSnapshotOrRefuse(trx);
      const limitMs = Math.max(0, Math.trunc(input.statementTimeoutMs ?? DEFAULT_MATERIALIZE_STATEMENT_TIMEOUT_MS));
      await sql`SELECT set_config('statement_timeout', ${String(limitMs)}, true)`.execute(trx);
      const audiences = (await input.audiences(trx)).filter(readsOnlyUsableTags);
      progress(1, 'choosing the as-of date');
      ({ asOf } = await chooseAsOf(trx, { subject: input.subject, tags: ordered, audiences, requested: input.asOf, now: input.now ?? new Date() }));
      const { run_id: runId } = await trx
        .insertInto('strata.tag_runs')
        .values({ as_of: asOf, status: 'running', actor: input.actor })
        .returning('run_id')
        .executeTakeFirstOrThrow();
      progress(2, `computing ${ordered.length} tags for every customer as of ${asOf}`);
      await sql`INSERT INTO strata.customer_profiles (run_id, customer_id, tags, audiences)
        SELECT ${runId}, p.k, p.tags, p.audiences FROM (${profileSql(input.subject, ordered, audiences, asOf)}) AS p`.execute(trx);
      await input.refreshModelAudiences?.(trx, { runId, asOf });
      progress(3, 'recording coverage and drift');
      const coverage = await coverageOf(trx, runId);
      const customers = Number(
        (await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.customer_profiles WHERE run_id = ${runId}`.execute(trx)).rows[0]?.n ?? 0,
      );
      const verdict = judgeDrift(await publishedRun(trx), { customers, coverage }, input);
      await trx
        .updateTable('strata.tag_runs')
        .set({
          ...(verdict.publish ? {} : { status: 'held' }),
          finished_at: new Date(),
          customers,
          coverage: JSON.stringify(coverage),
          drift: JSON.stringify(verdict.drift),
          message: verdict.message,
        })
        .where('run_id', '=', runId)
        .execute();
      progress(4, verdict.publish ? 'publishing the snapshot' : 'holding the run for an approver');
      if (verdict.publish) await flipSnapshot(trx, { runId, asOf }, input.actor);
      else await supersedeHeldRuns(trx, runId);
      return runFromRow(await trx.selectFrom('strata.tag_runs').selectAll().where('run_id', '=', runId).executeTakeFirstOrThrow());
    });
    await removeUnservedRows(db);
    // Fresh statistics for the rows just written (autovacuum would get there later): without
    // them PostgreSQL plans joins over the profiles (audiences, insight, scopes) blind.
    await sql`ANALYZE strata.customer_profiles`.execute(db);
    return { ...run, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    if (!(error instanceof StrataError)) {
      logger.error({ err: error instanceof Error ? error.message : String(error) }, 'tag materialization failed');
      await db
        .insertInto('strata.tag_runs')
        .values({ as_of: asOf || today(), status: 'failed', actor: input.actor, error: error instanceof Error ? error.message.slice(0, 500) : String(error) })
        .execute();
    }
    throw error;
  }
}

interface Verdict {
  readonly publish: boolean;
  readonly drift: Record<string, number>;
  readonly message: string | null;
}

/** Whether a computed run may be published, from its drift against the published run. */
function judgeDrift(baseline: MaterializationRun | undefined, run: { customers: number; coverage: Coverage }, input: MaterializationInput): Verdict {
  if (!baseline) return { publish: true, drift: {}, message: null };
  const maxDrift = input.maxDrift ?? DEFAULT_MAX_DRIFT;
  const detail = distributionDrift(baseline, run);
  const drift = Object.fromEntries(Object.entries(detail).map(([tag, d]) => [tag, d.share]));
  const excessive = excessiveDrift(detail, maxDrift);
  if (excessive.length === 0) return { publish: true, drift, message: null };
  const moved = `tag values moved more than ${(maxDrift * 100).toFixed(1)}% of customers from the published run ${baseline.runId} (as of ${baseline.asOf}): ${describeDrift(excessive)}`;
  if (input.force) return { publish: true, drift, message: `published by force although ${moved}` };
  return { publish: false, drift, message: `held: ${moved}; an approver publishes it with publishMaterialization, or the CLI with materialize --force` };
}

async function coverageOf(db: Kysely<DatabaseSchema>, runId: number): Promise<Coverage> {
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
