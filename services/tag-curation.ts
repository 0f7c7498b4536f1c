import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { authorsSinceApproval, changeDefinition, definitionHistory, getDefinition, type StoredDefinition } from '../store/definition-store.ts';
import { defineTag, type TagSpec } from '../modeling/tags/define-tag.ts';
import { checkTag, orderTags, tagDependencies } from '../modeling/tags/check-tag.ts';
import type { TagSubject } from '../modeling/tags/tag-subject.ts';
import { StrataError } from '../modeling/errors.ts';
import { loadTagRegistry, type StoredTagBody } from './tag-registry.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import { tagMembers } from '../modeling/tags/rule-members.ts';
import { checkMembersCleared } from './access.ts';
import type { Principal } from './authorization.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkDefinitionText, checkOwner } from '../modeling/catalog/definition-text.ts';
import { CONDITION_LIMITS } from '../modeling/catalog/condition-limits.ts';
import { isStorableText } from '../modeling/storable-text.ts';

export interface TagCurationContext {
  readonly db: Kysely<DatabaseSchema>;
  readonly subject: TagSubject;
  readonly codeTags: readonly TagDefinition[];
  readonly actor: string;
  /** Who acts: a tag they draft may read only members up to their clearance (a customer id needs personal clearance). */
  readonly principal?: Principal;
}

type Stored = StoredDefinition<StoredTagBody>;

async function validated(context: TagCurationContext, spec: TagSpec, options: { forPublish: boolean }): Promise<TagDefinition> {
  const registry = await loadTagRegistry(context.db, context.codeTags);
  const tag = defineTag({ ...spec, status: 'DRAFT' }, 'api');
  const others = new Map(registry.current);
  others.delete(tag.key);
  // For publishing, a dependency counts in its published version; drafts are found (and refused) by name.
  const readable = options.forPublish ? new Map([...others, ...registry.live]) : others;
  readable.delete(tag.key);
  checkTag(tag, context.subject, readable, options);
  if (context.principal && !options.forPublish) checkMembersCleared(context.principal, tagMembers(tag, context.subject, readable), 'tag');
  // A cycle through other tags is refused before it can be saved.
  orderTags([...others.values(), tag]);
  return tag;
}

/**
 * Checks the text fields a steward sent (only those: stored text is not re-judged): caps on
 * description and category, an owner that is a team slug or user name, enum values that
 * fit a condition value.
 */
function checkSentText(fields: Partial<TagSpec>): void {
  if (fields.description !== undefined) checkDefinitionText('description', fields.description);
  if (fields.category !== undefined) checkDefinitionText('category', fields.category);
  if (fields.owner !== undefined) checkOwner(fields.owner);
  const values = [
    ...(fields.cases ?? []).map((c, i) => [`cases[${i}].value`, c.value] as const),
    ...(fields.else != null ? [['else', fields.else] as const] : []),
  ];
  for (const [path, value] of values) {
    if (typeof value === 'string' && (value.length > CONDITION_LIMITS.maxValueLength || !isStorableText(value))) {
      throw new StrataError('BAD_USER_INPUT', `${path}: a value has at most ${CONDITION_LIMITS.maxValueLength} characters and no NUL or unpaired surrogates`, {
        path,
      });
    }
  }
}

function requireStatus(current: Stored | undefined, allowed: readonly string[], action: string): Stored {
  if (!current) throw new StrataError('NOT_FOUND', 'no such tag');
  if (!allowed.includes(current.status))
    throw new StrataError('CONFLICT', `cannot ${action} tag ${quoteInput(current.key)} while it is ${current.status} (allowed from ${allowed.join(', ')})`);
  return current;
}

/** Creates a steward-defined tag as version 1, DRAFT; the owner is the acting principal unless given. */
export async function createTag(context: TagCurationContext, spec: TagSpec): Promise<Stored> {
  checkSentText(spec);
  if (context.codeTags.some((t) => t.key === spec.key))
    throw new StrataError('CONFLICT', `tag ${quoteInput(spec.key)} is defined in code and cannot be redefined through the API`);
  await validated(context, spec, { forPublish: false });
  return changeDefinition<StoredTagBody>(context.db, {
    kind: 'tag',
    key: spec.key,
    expectedVersion: null,
    actor: context.actor,
    action: 'create',
    apply: () => ({ status: 'DRAFT', body: { spec: { ...spec, owner: spec.owner || context.actor }, published: null }, bumpVersion: true }),
  });
}

/** Changes a draft (or a published tag, which returns to DRAFT while its published version keeps serving). */
export async function updateTag(context: TagCurationContext, key: string, expectedVersion: number, changes: Partial<TagSpec>): Promise<Stored> {
  checkSentText(changes);
  const existing = await getDefinition<StoredTagBody>(context.db, 'tag', key);
  const spec = { ...(existing?.body.spec as TagSpec), ...changes, key, kind: existing?.body.spec.kind ?? changes.kind } as TagSpec;
  if (existing) await validated(context, spec, { forPublish: false });
  return changeDefinition<StoredTagBody>(context.db, {
    kind: 'tag',
    key,
    expectedVersion,
    actor: context.actor,
    action: 'update',
    apply: (current) => {
      const tag = requireStatus(current, ['DRAFT', 'PUBLISHED'], 'update');
      return { status: 'DRAFT', body: { spec, published: tag.body.published }, bumpVersion: true };
    },
  });
}

/** DRAFT -> IN_REVIEW. */
export function submitTag(context: TagCurationContext, key: string, expectedVersion: number): Promise<Stored> {
  return changeDefinition<StoredTagBody>(context.db, {
    kind: 'tag',
    key,
    expectedVersion,
    actor: context.actor,
    action: 'submit',
    apply: (current) => ({ status: 'IN_REVIEW', body: requireStatus(current, ['DRAFT'], 'submit').body, bumpVersion: false }),
  });
}

/**
 * Four eyes: the approver must not be an author of the version under review, that is anyone
 * who created, updated or submitted the tag since it was last published (or created).
 */
async function refuseAuthorAsApprover(db: Kysely<DatabaseSchema>, key: string, approver: string): Promise<void> {
  const authors = await authorsSinceApproval(db, 'tag', key);
  const own = authors.find((a) => a.actor === approver);
  if (!own) return;
  const everyone = authors.map((a) => `${a.actor} (${a.actions.join(', ')})`).join(', ');
  throw new StrataError(
    'FORBIDDEN',
    `'${approver}' ${own.actions.map(pastTense).join(' and ')} tag '${key}' since it was last published and cannot approve it; authors of this version: ${everyone}; an approver who is none of them must`,
  );
}

const pastTense = (action: string): string => (action === 'submit' ? 'submitted' : `${action}d`);

/** IN_REVIEW -> PUBLISHED, by someone who authored none of it, when every tag it reads is published. */
export async function approveTag(context: TagCurationContext, key: string, expectedVersion: number): Promise<Stored> {
  const existing = await getDefinition<StoredTagBody>(context.db, 'tag', key);
  // Checked before the transaction (PGlite has one connection); the version check below
  // refuses the approval if the spec changed in between.
  if (existing?.status === 'IN_REVIEW' && existing.version === expectedVersion) await validated(context, existing.body.spec, { forPublish: true });
  return changeDefinition<StoredTagBody>(context.db, {
    kind: 'tag',
    key,
    expectedVersion,
    actor: context.actor,
    action: 'approve',
    apply: async (current, trx) => {
      const tag = requireStatus(current, ['IN_REVIEW'], 'approve');
      await refuseAuthorAsApprover(trx, key, context.actor);
      return { status: 'PUBLISHED', body: { spec: tag.body.spec, published: { version: tag.version, spec: tag.body.spec } }, bumpVersion: false };
    },
  });
}

/** IN_REVIEW -> DRAFT, with the reviewer's reason. */
export async function rejectTag(context: TagCurationContext, key: string, expectedVersion: number, reason: string): Promise<Stored> {
  checkDefinitionText('reason', reason);
  return changeDefinition<StoredTagBody>(context.db, {
    kind: 'tag',
    key,
    expectedVersion,
    actor: context.actor,
    action: 'reject',
    reason,
    apply: (current) => ({ status: 'DRAFT', body: requireStatus(current, ['IN_REVIEW'], 'reject').body, bumpVersion: false }),
  });
}

/** PUBLISHED -> DEPRECATED: still served, flagged for removal. */
export async function deprecateTag(context: TagCurationContext, key: string, reason: string): Promise<Stored> {
  checkDefinitionText('reason', reason);
  const current = await getDefinition<StoredTagBody>(context.db, 'tag', key);
  if (!current) throw notFoundOrCode(context, key);
  return changeDefinition<StoredTagBody>(context.db, {
    kind: 'tag',
    key,
    expectedVersion: current.version,
    actor: context.actor,
    action: 'deprecate',
    reason,
    apply: (now) => ({ status: 'DEPRECATED', body: requireStatus(now, ['PUBLISHED'], 'deprecate').body, bumpVersion: false }),
  });
}

/** DEPRECATED (or never published) -> ARCHIVED, unless a published or deprecated tag still reads it. */
export async function archiveTag(context: TagCurationContext, key: string, reason: string): Promise<Stored> {
  checkDefinitionText('reason', reason);
  const current = await getDefinition<StoredTagBody>(context.db, 'tag', key);
  if (!current) throw notFoundOrCode(context, key);
  const registry = await loadTagRegistry(context.db, context.codeTags);
  const readers = [...registry.live.values()].filter((t) => t.key !== key && tagDependencies(t).includes(key)).map((t) => t.key);
  if (readers.length > 0)
    throw new StrataError('CONFLICT', `tag ${quoteInput(key)} is read by live tag(s) ${readers.join(', ')}; change or archive them first`);
  return changeDefinition<StoredTagBody>(context.db, {
    kind: 'tag',
    key,
    expectedVersion: current.version,
    actor: context.actor,
    action: 'archive',
    reason,
    apply: (now) => ({ status: 'ARCHIVED', body: requireStatus(now, ['DEPRECATED', 'DRAFT'], 'archive').body, bumpVersion: false }),
  });
}

function notFoundOrCode(context: TagCurationContext, key: string): StrataError {
  return context.codeTags.some((t) => t.key === key)
    ? new StrataError('FORBIDDEN', `tag ${quoteInput(key)} is defined in code; change it there`)
    : new StrataError('NOT_FOUND', `no tag ${quoteInput(key)}`);
}

export const tagHistory = (db: Kysely<DatabaseSchema>, key: string) => definitionHistory(db, 'tag', key);
