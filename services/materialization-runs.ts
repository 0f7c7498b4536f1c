import { markAllRollupsStale } from '../store/rollup-marks.ts';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DatabaseSchema, TagRunsTable } from '../store/schema.ts';
import { StrataError } from '../modeling/errors.ts';
import { logger } from '../store/logger.ts';
import type { Coverage } from './materialization-drift.ts';

/** Advisory lock held by a materialization, a publication, and audience changes to the snapshot. */
export const SNAPSHOT_LOCK = 732_001;

/**
 * Where a run stands: `published` (its rows are, or were, the snapshot readers see), `held`
 * (computed, kept unpublished by the drift guard until an approver publishes it),
 * `superseded` (held, then overtaken by a newer run; its rows are dropped), `running`, `failed`.
 */
export type RunStatus = 'running' | 'published' | 'held' | 'superseded' | 'failed';

export interface MaterializationRun {
  readonly runId: number;
  readonly asOf: string;
  readonly status: RunStatus;
  readonly customers: number;
  readonly seconds: number;
  /** Per tag: customers with a value, and customers per value. */
  readonly coverage: Coverage;
  /** Per tag: the share of customers its value distribution moved from the snapshot published when the run was computed. */
  readonly drift: Readonly<Record<string, number>>;
  /** Why the run was held, or that its publication was forced. */
  readonly message: string | null;
  readonly publishedAt: Date | null;
  readonly publishedBy: string | null;
}

type Db = Kysely<DatabaseSchema>;

/** Takes the snapshot lock for the transaction, or refuses with CONFLICT when a materialization holds it. */
export async function lockSnapshotOrRefuse(trx: Db): Promise<void> {
  const locked = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(${SNAPSHOT_LOCK}) AS locked`.execute(trx);
  if (!locked.rows[0]?.locked) throw new StrataError('CONFLICT', 'a materialization is already running; retry when it has finished');
}

/** A stored run as the API shows it. */
export function runFromRow(row: Selectable<TagRunsTable>): MaterializationRun {
  const seconds = row.finished_at ? (row.finished_at.getTime() - row.started_at.getTime()) / 1000 : 0;
  return {
    runId: row.run_id,
    asOf: row.as_of,
    status: row.status as RunStatus,
    customers: row.customers ?? 0,
    seconds,
    coverage: (row.coverage ?? {}) as Coverage,
    drift: (row.drift ?? {}) as Record<string, number>,
    message: row.message,
    publishedAt: row.published_at,
    publishedBy: row.published_by,
  };
}

/** The run the current snapshot points at, with the distributions a new run is compared with. */
export async function publishedRun(db: Db): Promise<MaterializationRun | undefined> {
  const row = await db
    .selectFrom('strata.tag_runs')
    .selectAll()
    .where('run_id', '=', (eb) => eb.selectFrom('strata.profile_snapshot').select('run_id').where('id', '=', 1))
    .executeTakeFirst();
  return row ? runFromRow(row) : undefined;
}

/**
 * Makes a computed run the snapshot: marks it published, supersedes older held runs (they
 * can no longer be published) and flips the pointer. Call inside the snapshot lock's transaction.
 */
export async function flipSnapshot(trx: Db, run: { runId: number; asOf: string }, actor: string): Promise<void> {
  const now = new Date();
  await trx.updateTable('strata.tag_runs').set({ status: 'published', published_at: now, published_by: actor }).where('run_id', '=', run.runId).execute();
  await supersedeHeldRuns(trx, run.runId);
  await trx.updateTable('strata.profile_snapshot').set({ run_id: run.runId, as_of: run.asOf, published_at: now }).where('id', '=', 1).execute();
  // Rollups sliced by tags read the snapshot: every period of theirs is stale now.
  await markAllRollupsStale(trx, { tagsOnly: true });
}

/** Held runs older than `runId` become superseded: only the newest run may be published. */
export async function supersedeHeldRuns(trx: Db, runId: number): Promise<void> {
  await trx.updateTable('strata.tag_runs').set({ status: 'superseded' }).where('status', '=', 'held').where('run_id', '<', runId).execute();
}

/**
 * Publishes a held run: re-checks, under the snapshot lock, that it is still held and that no
 * newer run was published or held since, then flips the pointer in the same transaction.
 */
export async function publishHeldRun(db: Db, runId: number, actor: string): Promise<MaterializationRun> {
  const published = await db.transaction().execute(async (trx) => {
    await lockSnapshotOrRefuse(trx);
    const row = await trx.selectFrom('strata.tag_runs').selectAll().where('run_id', '=', runId).forUpdate().executeTakeFirst();
    if (!row) throw new StrataError('NOT_FOUND', `no materialization run ${runId}`);
    const newer = await trx
      .selectFrom('strata.tag_runs')
      .select(['run_id', 'status'])
      .where('run_id', '>', runId)
      .where('status', 'in', ['published', 'held'])
      .orderBy('run_id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (newer)
      throw new StrataError('CONFLICT', `run ${runId} is no longer the newest: run ${newer.run_id} is ${newer.status}; publish that one or materialize again`);
    if (row.status !== 'held') throw new StrataError('CONFLICT', `run ${runId} is ${row.status}; only a held run can be published`);
    await flipSnapshot(trx, { runId, asOf: row.as_of }, actor);
    return runFromRow(await trx.selectFrom('strata.tag_runs').selectAll().where('run_id', '=', runId).executeTakeFirstOrThrow());
  });
  await removeUnservedRows(db);
  return published;
}

/**
 * Deletes the profile rows of every run that is neither the snapshot nor the held run an
 * approver may still publish. Skipped when a materialization holds the lock (the next run
 * cleans up); a failure is logged, never thrown: the run it follows is already committed.
 */
export async function removeUnservedRows(db: Db): Promise<void> {
  try {
    await db.transaction().execute(async (trx) => {
      const locked = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(${SNAPSHOT_LOCK}) AS locked`.execute(trx);
      if (!locked.rows[0]?.locked) return;
      await sql`DELETE FROM strata.customer_profiles WHERE run_id NOT IN (
        SELECT run_id FROM strata.profile_snapshot WHERE id = 1 AND run_id IS NOT NULL
        UNION ALL SELECT run_id FROM strata.tag_runs WHERE status = 'held')`.execute(trx);
    });
  } catch (error) {
    logger.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'removing the rows of older materialization runs failed; the next run retries',
    );
  }
}

/** Materialization runs recorded in the database, per status (for metrics: every instance's runs and the CLI's). */
export async function countRunsByStatus(db: Db): Promise<Partial<Record<RunStatus, number>>> {
  const rows = await db
    .selectFrom('strata.tag_runs')
    .select(['status', (eb) => eb.fn.countAll<number>().as('runs')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.runs)]));
}
