import { sql, type Kysely, type Transaction } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { jsonDiff, type Change } from './json-diff.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';

/** Tags and audiences, the decision layer's placements, contents, strategies and experiments, and steward dashboards and monitors. */
export type DefinitionKind = 'tag' | 'audience' | 'placement' | 'content' | 'strategy' | 'experiment' | 'dashboard' | 'monitor';

export interface StoredDefinition<Body = unknown> {
  readonly kind: DefinitionKind;
  readonly key: string;
  readonly version: number;
  readonly status: string;
  readonly body: Body;
  readonly updatedBy: string;
  readonly updatedAt: Date;
}

export interface HistoryEntry {
  readonly version: number;
  readonly status: string;
  readonly actor: string;
  readonly action: string;
  readonly at: Date;
  readonly diff: readonly Change[];
  readonly reason: string | null;
}

type Db = Kysely<DatabaseSchema> | Transaction<DatabaseSchema>;

function toStored<Body>(row: {
  kind: string;
  key: string;
  version: number;
  status: string;
  body: unknown;
  updated_by: string;
  updated_at: Date;
}): StoredDefinition<Body> {
  return {
    kind: row.kind as DefinitionKind,
    key: row.key,
    version: row.version,
    status: row.status,
    body: row.body as Body,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

export async function listDefinitions<Body>(db: Db, kind: DefinitionKind): Promise<StoredDefinition<Body>[]> {
  const rows = await db.selectFrom('strata.definitions').selectAll().where('kind', '=', kind).orderBy('key').execute();
  return rows.map((r) => toStored<Body>(r));
}

export async function getDefinition<Body>(db: Db, kind: DefinitionKind, key: string): Promise<StoredDefinition<Body> | undefined> {
  const row = await db.selectFrom('strata.definitions').selectAll().where('kind', '=', kind).where('key', '=', key).executeTakeFirst();
  return row ? toStored<Body>(row) : undefined;
}

export interface DefinitionChange<Body> {
  readonly kind: DefinitionKind;
  readonly key: string;
  /** The version the caller last saw; `null` to create. */
  readonly expectedVersion: number | null;
  readonly actor: string;
  readonly action: string;
  readonly reason?: string | null;
  /** Decides the new status and body from the current definition (undefined when creating); may throw. */
  readonly apply: (
    current: StoredDefinition<Body> | undefined,
    trx: Transaction<DatabaseSchema>,
  ) => Promise<{ status: string; body: Body; bumpVersion: boolean }> | { status: string; body: Body; bumpVersion: boolean };
}

/**
 * Changes one definition under optimistic concurrency: the row is locked, the caller's
 * expected version checked (CONFLICT on mismatch), the change applied and recorded in the
 * append-only audit log with its diff, all in one transaction.
 */
export async function changeDefinition<Body>(db: Kysely<DatabaseSchema>, change: DefinitionChange<Body>): Promise<StoredDefinition<Body>> {
  return db.transaction().execute((trx) => changeDefinitionIn(trx, change));
}

/** `changeDefinition` inside the caller's transaction, for changes of several definitions that commit together. */
export async function changeDefinitionIn<Body>(trx: Transaction<DatabaseSchema>, change: DefinitionChange<Body>): Promise<StoredDefinition<Body>> {
  const row = await trx
    .selectFrom('strata.definitions')
    .selectAll()
    .where('kind', '=', change.kind)
    .where('key', '=', change.key)
    .forUpdate()
    .executeTakeFirst();
  const current = row ? toStored<Body>(row) : undefined;
  if (change.expectedVersion === null && current)
    throw new StrataError('CONFLICT', `${change.kind} ${quoteInput(change.key)} already exists (version ${current.version})`);
  if (change.expectedVersion !== null && !current) throw new StrataError('NOT_FOUND', `no ${change.kind} ${quoteInput(change.key)}`);
  if (current && change.expectedVersion !== null && current.version !== change.expectedVersion) {
    throw new StrataError(
      'CONFLICT',
      `${change.kind} ${quoteInput(change.key)} is at version ${current.version}, not ${change.expectedVersion}; reload it and retry`,
      { currentVersion: current.version },
    );
  }
  const next = await change.apply(current, trx);
  const version = current ? current.version + (next.bumpVersion ? 1 : 0) : 1;
  const body = JSON.stringify(next.body);
  if (current) {
    await trx
      .updateTable('strata.definitions')
      .set({ version, status: next.status, body, updated_by: change.actor, updated_at: sql`now()` as never })
      .where('kind', '=', change.kind)
      .where('key', '=', change.key)
      .execute();
  } else {
    await trx
      .insertInto('strata.definitions')
      .values({ kind: change.kind, key: change.key, version, status: next.status, body, updated_by: change.actor })
      .execute();
  }
  const diff = jsonDiff(current ? { status: current.status, ...(current.body as object) } : {}, { status: next.status, ...(next.body as object) });
  await trx
    .insertInto('strata.audit_log')
    .values({
      actor: change.actor,
      action: change.action,
      kind: change.kind,
      key: change.key,
      version,
      status: next.status,
      body,
      diff: JSON.stringify(diff),
      reason: change.reason ?? null,
    })
    .execute();
  const saved = await trx.selectFrom('strata.definitions').selectAll().where('kind', '=', change.kind).where('key', '=', change.key).executeTakeFirstOrThrow();
  return toStored<Body>(saved);
}

/** Every recorded change of a definition, oldest first. */
export async function definitionHistory(db: Db, kind: DefinitionKind, key: string): Promise<HistoryEntry[]> {
  const rows = await db.selectFrom('strata.audit_log').selectAll().where('kind', '=', kind).where('key', '=', key).orderBy('id').execute();
  return rows.map((r) => ({ version: r.version, status: r.status, actor: r.actor, action: r.action, at: r.at, diff: r.diff as Change[], reason: r.reason }));
}

/** Audit actions that author a definition's next version. */
const AUTHORING_ACTIONS = ['create', 'update', 'submit'] as const;

/**
 * Everyone who authored the version now under review, with what they did: every actor who
 * created, updated or submitted the definition since its last approval (or since creation),
 * in the order they first acted.
 */
export async function authorsSinceApproval(db: Db, kind: DefinitionKind, key: string): Promise<{ actor: string; actions: string[] }[]> {
  const rows = await db
    .selectFrom('strata.audit_log')
    .select(['actor', 'action'])
    .where('kind', '=', kind)
    .where('key', '=', key)
    .where('action', 'in', AUTHORING_ACTIONS)
    .where('id', '>', (eb) =>
      eb
        .selectFrom('strata.audit_log as approval')
        .select(sql<string>`COALESCE(MAX(approval.id), 0)`.as('id'))
        .where('approval.kind', '=', kind)
        .where('approval.key', '=', key)
        .where('approval.action', '=', 'approve'),
    )
    .orderBy('id')
    .execute();
  const authors = new Map<string, string[]>();
  for (const row of rows) {
    const actions = authors.get(row.actor) ?? [];
    if (!actions.includes(row.action)) actions.push(row.action);
    authors.set(row.actor, actions);
  }
  return [...authors].map(([actor, actions]) => ({ actor, actions }));
}
