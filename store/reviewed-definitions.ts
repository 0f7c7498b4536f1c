import type { Kysely, Transaction } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { authorsSinceApproval, changeDefinition, getDefinition, type DefinitionKind, type StoredDefinition } from './definition-store.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkDefinitionText } from '../modeling/catalog/definition-text.ts';

/** A definition under review as stored: the current spec (a draft while under work) and the version served. */
export interface ReviewedBody<Spec> {
  readonly spec: Spec;
  readonly published: { readonly version: number; readonly spec: Spec } | null;
}

/** Who changes the definitions; `check` validates a spec against today's catalog (on save and again on approval). */
export interface ReviewContext<Spec> {
  readonly db: Kysely<DatabaseSchema>;
  readonly actor: string;
  readonly check: (spec: Spec) => void | Promise<void>;
  /** Runs inside the change's transaction (for instance to notify caches). */
  readonly onChange?: (trx: Transaction<DatabaseSchema>, key: string) => Promise<void>;
}

/**
 * The draft → review → publish flow of a stored definition kind, as tags, strategies and
 * dashboards follow it: a save writes a DRAFT (the published version keeps serving), the
 * author submits it, and someone who authored none of the version approves it (four eyes)
 * or rejects it with a reason. Every step is a `changeDefinition`: optimistic concurrency,
 * the audit log with its diff, and the change notified to every instance.
 */
/**
 * The version a definition serves: its approved one, or the whole definition when it was
 * stored ACTIVE before its kind was put under review (monitors saved before review was required).
 */
export function publishedOf<Spec>(stored: StoredDefinition<ReviewedBody<Spec>>): ReviewedBody<Spec>['published'] {
  if (stored.status === 'RETIRED') return stored.body.published ?? null;
  if (stored.status === 'ACTIVE') return { version: stored.version, spec: stored.body.spec };
  return stored.body.published ?? null;
}

export function reviewedDefinitions<Spec>(kind: DefinitionKind, noun: string) {
  type Stored = StoredDefinition<ReviewedBody<Spec>>;

  function requireStatus(current: Stored | undefined, allowed: readonly string[], action: string, key: string): Stored {
    if (!current) throw new StrataError('NOT_FOUND', `no ${noun} ${quoteInput(key)}`);
    if (!allowed.includes(current.status))
      throw new StrataError('CONFLICT', `cannot ${action} ${noun} ${quoteInput(key)} while it is ${current.status} (allowed from ${allowed.join(', ')})`);
    return current;
  }

  function refuseAuthor(key: string, actor: string, authors: readonly { actor: string }[]): void {
    if (authors.some((a) => a.actor === actor))
      throw new StrataError(
        'FORBIDDEN',
        `'${actor}' authored this version of ${noun} '${key}' (authors: ${authors.map((a) => a.actor).join(', ')}); someone else must approve it`,
      );
  }

  return {
    /** Creates (no `expectedVersion`) or changes a definition as a DRAFT. */
    async save(context: ReviewContext<Spec>, key: string, spec: Spec, expectedVersion: number | null): Promise<Stored> {
      await context.check(spec);
      return changeDefinition<ReviewedBody<Spec>>(context.db, {
        kind,
        key,
        expectedVersion,
        actor: context.actor,
        action: expectedVersion === null ? 'create' : 'update',
        apply: async (current, trx) => {
          const published = current ? publishedOf(requireStatus(current, ['DRAFT', 'PUBLISHED', 'RETIRED', 'ACTIVE'], 'update', key)) : null;
          await context.onChange?.(trx, key);
          return { status: 'DRAFT', body: { spec, published }, bumpVersion: true };
        },
      });
    },

    /** DRAFT -> IN_REVIEW. */
    submit(context: ReviewContext<Spec>, key: string, expectedVersion: number): Promise<Stored> {
      return changeDefinition<ReviewedBody<Spec>>(context.db, {
        kind,
        key,
        expectedVersion,
        actor: context.actor,
        action: 'submit',
        apply: (current) => ({ status: 'IN_REVIEW', body: requireStatus(current, ['DRAFT'], 'submit', key).body, bumpVersion: false }),
      });
    },

    /** IN_REVIEW -> PUBLISHED by someone who authored none of the version (four eyes), checked again against today's catalog. */
    async approve(context: ReviewContext<Spec>, key: string, expectedVersion: number): Promise<Stored> {
      const existing = await getDefinition<ReviewedBody<Spec>>(context.db, kind, key);
      // Who may approve is answered before what is approved; the transaction checks both again.
      if (existing) refuseAuthor(key, context.actor, await authorsSinceApproval(context.db, kind, key));
      if (existing?.status === 'IN_REVIEW' && existing.version === expectedVersion) await context.check(existing.body.spec);
      return changeDefinition<ReviewedBody<Spec>>(context.db, {
        kind,
        key,
        expectedVersion,
        actor: context.actor,
        action: 'approve',
        apply: async (current, trx) => {
          const definition = requireStatus(current, ['IN_REVIEW'], 'approve', key);
          refuseAuthor(key, context.actor, await authorsSinceApproval(trx, kind, key));
          await context.onChange?.(trx, key);
          return {
            status: 'PUBLISHED',
            body: { spec: definition.body.spec, published: { version: definition.version, spec: definition.body.spec } },
            bumpVersion: false,
          };
        },
      });
    },

    /** IN_REVIEW -> DRAFT with the reviewer's reason. */
    reject(context: ReviewContext<Spec>, key: string, expectedVersion: number, reason: string): Promise<Stored> {
      checkDefinitionText('reason', reason);
      return changeDefinition<ReviewedBody<Spec>>(context.db, {
        kind,
        key,
        expectedVersion,
        actor: context.actor,
        action: 'reject',
        reason,
        apply: (current) => ({ status: 'DRAFT', body: requireStatus(current, ['IN_REVIEW'], 'reject', key).body, bumpVersion: false }),
      });
    },
  };
}
