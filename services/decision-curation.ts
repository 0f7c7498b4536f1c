import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import { authorsSinceApproval, changeDefinition, definitionHistory, getDefinition, type HistoryEntry } from '../store/definition-store.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkDefinitionText } from '../modeling/catalog/definition-text.ts';
import type { DecisionKind, DecisionSpecs } from '../decisioning/definitions.ts';
import { checkContent, checkExperiment, checkPlacement, checkStrategy } from '../decisioning/check-specs.ts';
import { DECISIONS_CHANNEL, loadDecisionRegistry, type DecisionBody, type StoredDecision } from './decision-registry.ts';
import { checkReferences, type DecisionEnvironment } from './decision-references.ts';

/** Who changes decision definitions, and what the definitions may name. */
export interface DecisionCurationContext {
  readonly db: Kysely<DatabaseSchema>;
  readonly changes: ChangeFeed;
  readonly actor: string;
  environment(): Promise<DecisionEnvironment>;
}

const checks: { [K in DecisionKind]: (spec: DecisionSpecs[K]) => void } = {
  placement: checkPlacement,
  content: checkContent,
  strategy: checkStrategy,
  experiment: checkExperiment,
};

function requireStatus<K extends DecisionKind>(kind: K, current: StoredDecision<K> | undefined, allowed: readonly string[], action: string): StoredDecision<K> {
  if (!current) throw new StrataError('NOT_FOUND', `no such ${kind}`);
  if (!allowed.includes(current.status))
    throw new StrataError('CONFLICT', `cannot ${action} ${kind} ${quoteInput(current.key)} while it is ${current.status} (allowed from ${allowed.join(', ')})`);
  return current;
}

/**
 * Checks a spec on its own and against the other definitions: a draft may name drafts (a
 * content and the strategy showing it are reviewed together), a version is approved only
 * when everything it names is published.
 */
async function validated<K extends DecisionKind>(context: DecisionCurationContext, kind: K, spec: DecisionSpecs[K], stage: 'draft' | 'publish'): Promise<void> {
  checks[kind](spec);
  const registry = await loadDecisionRegistry(context.db);
  checkReferences(kind, spec, stage === 'draft' ? registry.current : registry.live, await context.environment(), stage === 'draft' ? 'existing' : 'published');
}

/**
 * Writes a draft: version 1 when `expectedVersion` is null, else the next version of a draft
 * or of a published definition (which keeps serving its published version until the new one
 * is approved). Every change notifies every instance's cache.
 */
export async function saveDecisionDraft<K extends DecisionKind>(
  context: DecisionCurationContext,
  kind: K,
  spec: DecisionSpecs[K],
  expectedVersion: number | null,
): Promise<StoredDecision<K>> {
  await validated(context, kind, spec, 'draft');
  return changeDefinition<DecisionBody<K>>(context.db, {
    kind,
    key: spec.key,
    expectedVersion,
    actor: context.actor,
    action: expectedVersion === null ? 'create' : 'update',
    apply: async (current, trx) => {
      const published = current ? requireStatus(kind, current, ['DRAFT', 'PUBLISHED', 'RETIRED'], 'update').body.published : null;
      await context.changes.notify(trx, DECISIONS_CHANNEL, `${kind}:${spec.key}`);
      return { status: 'DRAFT', body: { spec, published }, bumpVersion: true };
    },
  });
}

/** DRAFT -> IN_REVIEW. */
export function submitDecision<K extends DecisionKind>(
  context: DecisionCurationContext,
  kind: K,
  key: string,
  expectedVersion: number,
): Promise<StoredDecision<K>> {
  return changeDefinition<DecisionBody<K>>(context.db, {
    kind,
    key,
    expectedVersion,
    actor: context.actor,
    action: 'submit',
    apply: (current) => ({ status: 'IN_REVIEW', body: requireStatus(kind, current, ['DRAFT'], 'submit').body, bumpVersion: false }),
  });
}

/**
 * IN_REVIEW -> PUBLISHED by someone who authored none of the version (four eyes), once
 * everything it names is published: from then on `decide` serves it on every instance.
 */
export async function approveDecision<K extends DecisionKind>(
  context: DecisionCurationContext,
  kind: K,
  key: string,
  expectedVersion: number,
): Promise<StoredDecision<K>> {
  const existing = await getDefinition<DecisionBody<K>>(context.db, kind, key);
  // Who may approve is answered before what is approved; the transaction checks both again.
  if (existing) refuseAuthor(kind, key, context.actor, await authorsSinceApproval(context.db, kind, key));
  if (existing?.status === 'IN_REVIEW' && existing.version === expectedVersion) await validated(context, kind, existing.body.spec, 'publish');
  return changeDefinition<DecisionBody<K>>(context.db, {
    kind,
    key,
    expectedVersion,
    actor: context.actor,
    action: 'approve',
    apply: async (current, trx) => {
      const definition = requireStatus(kind, current, ['IN_REVIEW'], 'approve');
      refuseAuthor(kind, key, context.actor, await authorsSinceApproval(trx, kind, key));
      await context.changes.notify(trx, DECISIONS_CHANNEL, `${kind}:${key}`);
      return {
        status: 'PUBLISHED',
        body: { spec: definition.body.spec, published: { version: definition.version, spec: definition.body.spec } },
        bumpVersion: false,
      };
    },
  });
}

/** Four eyes: nobody who created, updated or submitted the version under review approves it. */
function refuseAuthor(kind: DecisionKind, key: string, actor: string, authors: readonly { actor: string }[]): void {
  if (authors.some((a) => a.actor === actor))
    throw new StrataError(
      'FORBIDDEN',
      `'${actor}' authored this version of ${kind} '${key}' (authors: ${authors.map((a) => a.actor).join(', ')}); another operator or an approver must approve it`,
    );
}

/** IN_REVIEW -> DRAFT, with the reviewer's reason. */
export function rejectDecision<K extends DecisionKind>(
  context: DecisionCurationContext,
  kind: K,
  key: string,
  expectedVersion: number,
  reason: string,
): Promise<StoredDecision<K>> {
  checkDefinitionText('reason', reason);
  return changeDefinition<DecisionBody<K>>(context.db, {
    kind,
    key,
    expectedVersion,
    actor: context.actor,
    action: 'reject',
    reason,
    apply: (current) => ({ status: 'DRAFT', body: requireStatus(kind, current, ['IN_REVIEW'], 'reject').body, bumpVersion: false }),
  });
}

/** Stops serving a definition at once on every instance (any status but RETIRED -> RETIRED); its history stays. */
export async function retireDecision<K extends DecisionKind>(
  context: DecisionCurationContext,
  kind: K,
  key: string,
  reason: string,
): Promise<StoredDecision<K>> {
  checkDefinitionText('reason', reason);
  const current = await getDefinition<DecisionBody<K>>(context.db, kind, key);
  if (!current) throw new StrataError('NOT_FOUND', `no ${kind} ${quoteInput(key)}`);
  if (kind === 'content') {
    const { live } = await loadDecisionRegistry(context.db);
    const users = live.placements.filter((p) => p.fallback === key).map((p) => p.key);
    if (users.length > 0)
      throw new StrataError('CONFLICT', `content ${quoteInput(key)} is the fallback of placement(s) ${users.join(', ')}; give them another fallback first`);
  }
  return changeDefinition<DecisionBody<K>>(context.db, {
    kind,
    key,
    expectedVersion: current.version,
    actor: context.actor,
    action: 'retire',
    reason,
    apply: async (now, trx) => {
      const definition = requireStatus(kind, now, ['DRAFT', 'IN_REVIEW', 'PUBLISHED'], 'retire');
      await context.changes.notify(trx, DECISIONS_CHANNEL, `${kind}:${key}`);
      return { status: 'RETIRED', body: definition.body, bumpVersion: false };
    },
  });
}

export const decisionHistory = (db: Kysely<DatabaseSchema>, kind: DecisionKind, key: string): Promise<HistoryEntry[]> => definitionHistory(db, kind, key);
