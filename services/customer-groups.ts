import type { RawBuilder } from 'kysely';
import type { Rule } from '../modeling/conditions/rule.ts';
import { StrataError } from '../modeling/errors.ts';
import { checkRule } from '../modeling/tags/check-tag.ts';
import { ruleMembers } from '../modeling/tags/rule-members.ts';
import { binsOf } from '../modeling/insight/bins.ts';
import { checkMembersCleared, type Viewer } from './access.ts';
import { audienceRuleOrNull, getAudience } from './audiences.ts';
import { currentSnapshot } from './snapshot.ts';
import type { TagRuntime } from './tag-runtime.ts';
import type { CustomerGroup } from './insight-relation.ts';
import { decileEdgesSql } from './insight-relation.ts';
import type { InsightFeature } from './insight-features.ts';
import { INSIGHT_SETTINGS, withAnalyticSettings } from './analytic-settings.ts';

/** API.md's AudienceRef: exactly one of an audience key, a rule, or `all: true`. */
export interface AudienceRefInput {
  readonly audience?: string | null;
  readonly rule?: Rule | null;
  readonly all?: boolean | null;
}

/** Resolves an AudienceRef: the audience must exist, a rule must be valid and within the viewer's clearance. */
export async function resolveGroup(runtime: TagRuntime, input: AudienceRefInput, viewer: Viewer, path: string): Promise<CustomerGroup> {
  const given = [input.audience != null, input.rule != null, input.all === true].filter(Boolean).length;
  if (given !== 1) throw new StrataError('BAD_USER_INPUT', `${path}: give exactly one of audience, rule or all: true`, { path });
  if (input.audience != null) {
    const audience = await getAudience(runtime, input.audience);
    return { kind: 'audience', key: audience.key, rule: audienceRuleOrNull(audience) };
  }
  if (input.rule != null) {
    checkRuleForInsight(runtime, (await runtime.registry()).live, input.rule, viewer, path);
    return { kind: 'rule', rule: input.rule };
  }
  return { kind: 'all' };
}

/** A rule read by insight: known, published names, within the viewer's clearance. */
export function checkRuleForInsight(runtime: TagRuntime, live: Parameters<typeof checkRule>[2], rule: Rule, viewer: Viewer, path: string): void {
  checkRule(rule, runtime.subject, live, path, { forPublish: true });
  checkMembersCleared(viewer.principal, ruleMembers(rule, runtime.subject, live), 'comparison');
}

/** The as-of date of the served profile snapshot; insight reads nothing else. */
export async function snapshotDate(runtime: TagRuntime): Promise<string> {
  const snapshot = await currentSnapshot(runtime.db);
  if (!snapshot) throw new StrataError('NOT_FOUND', 'no profile snapshot yet: materialize the tags first (materializeTags)');
  return snapshot.asOf;
}

/**
 * Numeric features without declared bins get their deciles over the customers of `within`
 * (one statement over the relation); the others are returned as they are.
 */
export async function withDecileBins(
  runtime: TagRuntime,
  relation: RawBuilder<unknown>,
  features: readonly InsightFeature[],
  within: RawBuilder<unknown>,
): Promise<InsightFeature[]> {
  const statement = decileEdgesSql(relation, features, within);
  if (!statement) return [...features];
  const { rows } = await runtime.analytics.read((db) => withAnalyticSettings(db, (trx) => statement.execute(trx), INSIGHT_SETTINGS));
  const row = (rows[0] ?? {}) as Record<string, string[] | null>;
  return features.map((f, i) => (f.type === 'number' && !f.bins ? { ...f, bins: binsOf((row[`e${i}`] ?? []).filter((e) => e !== null)) } : f));
}
