import { sql, type Kysely, type Transaction } from 'kysely';
import type { DatabaseSchema, GoalsTable } from '../store/schema.ts';
import type { QueryAccess, SemanticLayer } from '../modeling/semantic-layer.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkDefinitionKey, checkDefinitionText } from '../modeling/catalog/definition-text.ts';
import { jsonDiff } from '../store/json-diff.ts';

/** A goal (目标): reach `target` of a metric over the half-open period `[from, to)` of reporting-zone days. */
export interface Goal {
  readonly key: string;
  readonly metric: string;
  readonly target: number;
  readonly period: { readonly from: string; readonly to: string };
  readonly parent: string | null;
  readonly description: string | null;
  readonly version: number;
  readonly updatedBy: string;
}

export interface GoalInput {
  readonly metric: string;
  readonly target: number;
  readonly period: { readonly from: string; readonly to: string };
  readonly parent?: string | null;
  readonly description?: string | null;
}

/** A stored goal as the table holds it (its change time is not part of a goal). */
type GoalRow = Omit<GoalsTable, 'updated_at'>;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const toGoal = (r: GoalRow): Goal => ({
  key: r.key,
  metric: r.metric,
  target: Number(r.target),
  period: { from: r.period_from, to: r.period_to },
  parent: r.parent_key,
  description: r.description,
  version: Number(r.version),
  updatedBy: r.updated_by,
});

function selectGoals(db: Kysely<DatabaseSchema>) {
  return db
    .selectFrom('strata.goals')
    .select(['key', 'metric', 'target', 'parent_key', 'description', 'version', 'updated_by'])
    .select([sql<string>`to_char(period_from, 'YYYY-MM-DD')`.as('period_from'), sql<string>`to_char(period_to, 'YYYY-MM-DD')`.as('period_to')]);
}

/** Every goal, or those with the given keys, ordered by key. */
export async function listGoals(db: Kysely<DatabaseSchema>, keys?: readonly string[]): Promise<Goal[]> {
  let query = selectGoals(db).orderBy('key');
  if (keys) {
    if (keys.length === 0) return [];
    query = query.where('key', 'in', [...keys]);
  }
  return (await query.execute()).map((r) => toGoal(r as GoalRow));
}

/** The goals directly under `parent`, in period order. */
export async function childGoals(db: Kysely<DatabaseSchema>, parent: string): Promise<Goal[]> {
  const rows = await selectGoals(db).where('parent_key', '=', parent).orderBy('period_from').orderBy('key').execute();
  return rows.map((r) => toGoal(r as GoalRow));
}

function isDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

/** Refuses bad input with a coded error, before anything is written. */
function checkGoalInput(input: GoalInput, semantic: SemanticLayer): void {
  if (!semantic.index.metrics.has(input.metric)) throw new StrataError('UNKNOWN_MEMBER', `unknown metric ${quoteInput(input.metric)}`, { path: 'metric' });
  if (!Number.isFinite(input.target)) throw new StrataError('BAD_USER_INPUT', 'target: must be a finite number', { path: 'target' });
  for (const side of ['from', 'to'] as const)
    if (!isDate(input.period[side])) throw new StrataError('BAD_USER_INPUT', `period.${side}: a date YYYY-MM-DD`, { path: `period.${side}` });
  if (input.period.from >= input.period.to)
    throw new StrataError('BAD_USER_INPUT', 'period: `from` must be before `to` (the period is [from, to))', { path: 'period' });
  if (input.description) checkDefinitionText('description', input.description);
}

/** Refuses a parent that does not exist or whose ancestors include `key` (a cycle). */
async function checkParent(trx: Transaction<DatabaseSchema>, key: string, parent: string | null | undefined): Promise<void> {
  if (!parent) return;
  if (parent === key) throw new StrataError('BAD_USER_INPUT', 'parent: a goal cannot be its own parent', { path: 'parent' });
  const { rows } = await sql<{ key: string }>`
    WITH RECURSIVE chain(key, parent_key, depth) AS (
      SELECT key, parent_key, 1 FROM strata.goals WHERE key = ${parent}
      UNION ALL SELECT g.key, g.parent_key, c.depth + 1 FROM strata.goals g JOIN chain c ON g.key = c.parent_key WHERE c.depth < 100
    ) SELECT key FROM chain`.execute(trx);
  if (rows.length === 0) throw new StrataError('NOT_FOUND', `parent: no goal ${quoteInput(parent)}`, { path: 'parent' });
  if (rows.some((r) => r.key === key))
    throw new StrataError('BAD_USER_INPUT', `parent: ${quoteInput(parent)} is under ${quoteInput(key)}; goals form a tree`, { path: 'parent' });
}

async function audit(trx: Transaction<DatabaseSchema>, actor: string, action: string, before: Goal | undefined, after: Goal): Promise<void> {
  const body = { metric: after.metric, target: after.target, period: after.period, parent: after.parent, description: after.description };
  const previous = before
    ? { metric: before.metric, target: before.target, period: before.period, parent: before.parent, description: before.description }
    : {};
  await trx
    .insertInto('strata.audit_log')
    .values({
      actor,
      action,
      kind: 'goal',
      key: after.key,
      version: after.version,
      status: 'ACTIVE',
      body: JSON.stringify(body),
      diff: JSON.stringify(jsonDiff(previous, body)),
    })
    .execute();
}

/** Creates a goal (version 1), audited. */
export async function createGoal(db: Kysely<DatabaseSchema>, semantic: SemanticLayer, actor: string, key: string, input: GoalInput): Promise<Goal> {
  checkDefinitionKey(key);
  checkGoalInput(input, semantic);
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('strata.goals').select('version').where('key', '=', key).forUpdate().executeTakeFirst();
    if (existing) throw new StrataError('CONFLICT', `goal ${quoteInput(key)} already exists (version ${existing.version})`);
    await checkParent(trx, key, input.parent);
    await trx
      .insertInto('strata.goals')
      .values({
        key,
        metric: input.metric,
        target: input.target,
        period_from: input.period.from,
        period_to: input.period.to,
        parent_key: input.parent ?? null,
        description: input.description ?? null,
        version: 1,
        updated_by: actor,
      })
      .execute();
    const goal = toGoal((await selectGoals(trx).where('key', '=', key).executeTakeFirstOrThrow()) as GoalRow);
    await audit(trx, actor, 'create', undefined, goal);
    return goal;
  });
}

/** Replaces the fields given (others kept) under optimistic concurrency (CONFLICT when `expectedVersion` is stale), audited. */
export async function updateGoal(
  db: Kysely<DatabaseSchema>,
  semantic: SemanticLayer,
  actor: string,
  key: string,
  expectedVersion: number,
  patch: Partial<GoalInput>,
): Promise<Goal> {
  return db.transaction().execute(async (trx) => {
    const row = await selectGoals(trx).where('key', '=', key).forUpdate().executeTakeFirst();
    if (!row) throw new StrataError('NOT_FOUND', `no goal ${quoteInput(key)}`);
    const current = toGoal(row as GoalRow);
    if (current.version !== expectedVersion)
      throw new StrataError('CONFLICT', `goal ${quoteInput(key)} is at version ${current.version}, not ${expectedVersion}; reload it and retry`, {
        currentVersion: current.version,
      });
    const next: GoalInput = {
      metric: patch.metric ?? current.metric,
      target: patch.target ?? current.target,
      period: patch.period ?? current.period,
      parent: patch.parent === undefined ? current.parent : patch.parent,
      description: patch.description === undefined ? current.description : patch.description,
    };
    checkGoalInput(next, semantic);
    await checkParent(trx, key, next.parent);
    await trx
      .updateTable('strata.goals')
      .set({
        metric: next.metric,
        target: next.target,
        period_from: next.period.from,
        period_to: next.period.to,
        parent_key: next.parent ?? null,
        description: next.description ?? null,
        version: current.version + 1,
        updated_by: actor,
        updated_at: sql`now()` as never,
      })
      .where('key', '=', key)
      .execute();
    const goal = toGoal((await selectGoals(trx).where('key', '=', key).executeTakeFirstOrThrow()) as GoalRow);
    await audit(trx, actor, 'update', current, goal);
    return goal;
  });
}

/**
 * A goal's actual: its metric over its period through the semantic layer, with the caller's
 * access (clearance, row scope, small-cell threshold); null when there is no value or it is suppressed.
 */
export async function goalActual(db: Kysely<any>, semantic: SemanticLayer, access: QueryAccess | undefined, goal: Goal): Promise<number | null> {
  const result = await semantic.query(db, { metrics: [goal.metric], timeRange: { from: goal.period.from, to: goal.period.to } }, access);
  const value = result.rows[0]?.[goal.metric];
  return value === null || value === undefined ? null : Number(value);
}

/** Progress toward the target (actual / target); null without an actual or with a zero target. */
export function goalProgress(actual: number | null, target: number): number | null {
  return actual === null || target === 0 ? null : actual / target;
}
