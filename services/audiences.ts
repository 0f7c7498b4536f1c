import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import { SNAPSHOT_LOCK } from './profile-materialization.ts';
import type { Rule } from '../modeling/conditions/rule.ts';
import { ruleToInput } from '../modeling/conditions/rule-to-input.ts';
import { readStoredRule } from '../modeling/conditions/stored-rule.ts';
import { checkRule } from '../modeling/tags/check-tag.ts';
import { orderTags } from '../modeling/tags/check-tag.ts';
import { profileSql } from '../modeling/tags/profile-sql.ts';
import { StrataError } from '../modeling/errors.ts';
import { changeDefinition, getDefinition, listDefinitions, type StoredDefinition } from '../store/definition-store.ts';
import { servableRuns } from './snapshot.ts';
import { tagClosure, type TagRuntime } from './tag-runtime.ts';
import { checkMembersCleared, seesIndividuals, type Viewer } from './access.ts';
import { andInScope, scopedKeysSql } from './scope-sql.ts';
import { ruleMembers } from '../modeling/tags/rule-members.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkDefinitionKey, checkDefinitionText } from '../modeling/catalog/definition-text.ts';
import type { LookalikeModel } from './lookalike-model.ts';

export interface AudienceBody {
  readonly description: string;
  /** The rule in API.md's input form (`ruleToInput`); read it with `audienceRule`. Null for a lookalike. */
  readonly rule: unknown;
  /** A lookalike audience's model: its members are the best-scored customers outside its seed. */
  readonly lookalike?: LookalikeModel;
}

export type StoredAudience = StoredDefinition<AudienceBody>;

/** Published audiences, as materialization needs them (read with the caller's connection or transaction). */
export async function publishedAudiences(db: Kysely<DatabaseSchema>): Promise<{ key: string; rule: Rule }[]> {
  const all = await listDefinitions<AudienceBody>(db, 'audience');
  return all.filter((a) => a.status === 'PUBLISHED' && !a.body.lookalike).map((a) => ({ key: a.key, rule: audienceRule(a) }));
}

/** A stored audience's rule, or null for a lookalike (whose members come from a model). */
export function audienceRuleOrNull(audience: StoredAudience): Rule | null {
  return audience.body.lookalike ? null : audienceRule(audience);
}

/** A stored audience's rule as the condition AST (also from audiences stored as an earlier AST). */
export function audienceRule(audience: StoredAudience): Rule {
  return readStoredRule(audience.body.rule, `audiences.${audience.key}.rule`);
}

/** Members of a rule computed live, as the statement selecting their keys. */
function liveMembers(runtime: TagRuntime, tags: readonly TagDefinition[], key: string, rule: Rule, asOf: string) {
  return sql`SELECT p.k FROM (${profileSql(runtime.subject, tags, [{ key, rule }], asOf)}) AS p WHERE cardinality(p.audiences) > 0`;
}

/**
 * Creates a published audience from a rule over tags, dimensions and aggregates, and
 * records its members in the current profile snapshot so that reads see it at once.
 */
export async function createAudience(
  runtime: TagRuntime,
  viewer: Viewer,
  input: { key: string; description?: string | null; rule: Rule },
): Promise<StoredAudience> {
  checkDefinitionKey(input.key);
  if (input.description) checkDefinitionText('description', input.description);
  const registry = await runtime.registry();
  checkRule(input.rule, runtime.subject, registry.live, 'rule', { forPublish: true });
  checkMembersCleared(viewer.principal, ruleMembers(input.rule, runtime.subject, registry.live), 'audience');
  const actor = viewer.principal.name;
  const tags = orderTags(tagClosure(registry.live, [input.rule]));
  const saved = await changeDefinition<AudienceBody>(runtime.db, {
    kind: 'audience',
    key: input.key,
    expectedVersion: null,
    actor,
    action: 'create',
    apply: () => ({ status: 'PUBLISHED', body: { description: input.description ?? '', rule: ruleToInput(input.rule) }, bumpVersion: true }),
  });
  // Waits for a running materialization (which read the audiences before this one existed),
  // then adds the members to whichever snapshot is current, and to the held run an approver
  // may publish next, each as of its own date.
  await runtime.analytics.run((db) =>
    db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${SNAPSHOT_LOCK})`.execute(trx);
      for (const run of await servableRuns(trx)) {
        await sql`UPDATE strata.customer_profiles SET audiences = array_append(array_remove(audiences, ${input.key}), ${input.key})
        WHERE run_id = ${run.runId} AND customer_id IN (${liveMembers(runtime, tags, input.key, input.rule, run.asOf)})`.execute(trx);
      }
    }),
  );
  return saved;
}

export async function getAudience(runtime: TagRuntime, key: string): Promise<StoredAudience> {
  const audience = await getDefinition<AudienceBody>(runtime.db, 'audience', key);
  if (!audience || audience.status === 'ARCHIVED') throw new StrataError('NOT_FOUND', `no audience ${quoteInput(key)}`);
  return audience;
}

/** Customers in the audience (within the viewer's scope) in the current snapshot; null when fewer than the viewer's threshold. */
export async function audienceSize(runtime: TagRuntime, key: string, viewer: Viewer): Promise<number | null> {
  const inScope = andInScope(sql.ref('customer_id'), scopedKeysSql(runtime.subject, (await runtime.registry()).live, viewer.principal.scope));
  const { rows } = await runtime.analytics.run((db) =>
    sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.current_profiles
    WHERE ${key} = ANY(audiences) ${inScope}`.execute(db),
  );
  const size = Number(rows[0]?.n ?? 0);
  return viewer.minSubjects !== undefined && size < viewer.minSubjects ? null : size;
}

/**
 * A page of member ids (within the viewer's scope) after `after` (exclusive), in id order;
 * one more is fetched to tell if more follow. Member ids are personal data.
 */
export async function audienceMembers(
  runtime: TagRuntime,
  key: string,
  first: number,
  after: string | null,
  viewer: Viewer,
): Promise<{ ids: string[]; hasNextPage: boolean }> {
  if (!seesIndividuals(viewer.principal))
    throw new StrataError('FORBIDDEN', `audience members are personal data; reading them needs personal clearance (yours: ${viewer.principal.clearance})`);
  const inScope = andInScope(sql.ref('customer_id'), scopedKeysSql(runtime.subject, (await runtime.registry()).live, viewer.principal.scope));
  const { rows } = await runtime.analytics.run((db) =>
    sql<{ customer_id: string }>`SELECT customer_id FROM strata.current_profiles
    WHERE ${key} = ANY(audiences) ${inScope}
    ${after === null ? sql`` : sql`AND customer_id > ${after}`} ORDER BY customer_id LIMIT ${first + 1}`.execute(db),
  );
  return { ids: rows.slice(0, first).map((r) => r.customer_id), hasNextPage: rows.length > first };
}
