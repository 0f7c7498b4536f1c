import { sql, type RawBuilder } from 'kysely';
import type { Rule } from '../modeling/conditions/rule.ts';
import { ruleToInput } from '../modeling/conditions/rule-to-input.ts';
import { StrataError } from '../modeling/errors.ts';
import { bestSplit, type FeatureCounts, type Split, type ValueCounts } from '../modeling/insight/split-search.ts';
import type { Viewer } from './access.ts';
import { checkRuleForInsight, resolveGroup, snapshotDate, type AudienceRefInput } from './customer-groups.ts';
import { cubeFeatures, cubeSql, cubeValue, groupedFeature } from './insight-cube.ts';
import { resolveFeatures, valueRule, type FeatureBins, type InsightFeature } from './insight-features.ts';
import { insightRelation, type CustomerGroup } from './insight-relation.ts';
import { scopedKeysSql } from './scope-sql.ts';
import type { TagRuntime } from './tag-runtime.ts';
import { INSIGHT_SETTINGS, withAnalyticSettings } from './analytic-settings.ts';

/** Significance a split must reach after its Bonferroni adjustment. */
export const TREE_ALPHA = 0.05;
export const MAX_TREE_DEPTH = 6;

export interface TreeInput {
  readonly population: AudienceRefInput;
  readonly goal: Rule;
  readonly features: readonly string[];
  readonly maxDepth: number;
  readonly minNodeCustomers: number;
  readonly bins?: readonly FeatureBins[];
}

/** One step of a node's path: customers with (or, `inGroup` false, without) a value of a feature. */
interface PathStep {
  readonly feature: number;
  readonly value: string | null;
  readonly inGroup: boolean;
}

export interface TreeNode {
  readonly id: string;
  readonly parentId: string | null;
  readonly depth: number;
  /** The node's customers as a rule in API.md's RuleInput form (population and path); null for the root of all customers. */
  readonly rule: Record<string, unknown> | null;
  /** The split that made the node: the feature, the value and whether the node has it. */
  readonly feature: string | null;
  readonly value: string | null;
  readonly inGroup: boolean | null;
  readonly customers: number | null;
  readonly conversions: number | null;
  readonly rate: number | null;
  /** rate / the root's rate. */
  readonly lift: number | null;
  /** The Bonferroni-adjusted p-value of the split that made the node; null for the root. */
  readonly pValue: number | null;
}

interface Growing {
  readonly id: string;
  readonly path: readonly PathStep[];
  readonly customers: number;
  readonly conversions: number;
}

/**
 * Grows an attribution tree (CHAID-style, binary value-against-rest splits) over the current
 * profile snapshot within the viewer's scope: at each level one grouped statement counts
 * customers and conversions per frontier node and feature value (GROUPING SETS), and each
 * node takes its most significant split (`bestSplit`: Bonferroni over its candidates, alpha
 * 0.05, both sides at least `minNodeCustomers`). Sizes of two children add up to their parent.
 */
export async function attributionTree(runtime: TagRuntime, viewer: Viewer, input: TreeInput): Promise<{ asOf: string; nodes: TreeNode[] }> {
  if (!Number.isInteger(input.maxDepth) || input.maxDepth < 1 || input.maxDepth > MAX_TREE_DEPTH)
    throw new StrataError('BAD_USER_INPUT', `maxDepth: between 1 and ${MAX_TREE_DEPTH}`);
  if (!Number.isInteger(input.minNodeCustomers) || input.minNodeCustomers < 1) throw new StrataError('BAD_USER_INPUT', 'minNodeCustomers: a positive integer');
  const live = (await runtime.registry()).live;
  let features = resolveFeatures(runtime.subject, live, input.features, input.bins ?? [], viewer);
  const population = await resolveGroup(runtime, input.population, viewer, 'population');
  if (population.kind === 'audience' && population.rule === null)
    throw new StrataError('BAD_USER_INPUT', `population: ${population.key} is a lookalike audience, which no rule describes; node rules need one`);
  checkRuleForInsight(runtime, live, input.goal, viewer, 'goal');
  const asOf = await snapshotDate(runtime);
  const scope = scopedKeysSql(runtime.subject, live, viewer.principal.scope);
  const relation = (fs: readonly InsightFeature[]) =>
    insightRelation({ subject: runtime.subject, live, features: fs, groups: { pop: population }, rules: { goal: input.goal }, asOf, scope });
  const k = viewer.minSubjects;
  const minChild = Math.max(input.minNodeCustomers, k ?? 1);
  const nodes: TreeNode[] = [];
  let frontier: Growing[] = [{ id: '0', path: [], customers: 0, conversions: 0 }];
  let root: { customers: number; conversions: number } | undefined;
  for (let depth = 0; frontier.length > 0; depth++) {
    const level = await countLevel(runtime, relation(features), features, frontier);
    // The first level's statement also cut the deciles of numeric features without bins: later levels and node rules use those bins.
    features = level.features;
    const counts = level.counts;
    if (!root) {
      root = counts.get('0')?.total ?? { customers: 0, conversions: 0 };
      const small = (n: number) => k !== undefined && n > 0 && n < k;
      const hidden = small(root.customers) || small(root.conversions) || small(root.customers - root.conversions);
      nodes.push(nodeOf(features, population, { id: '0', path: [], ...root }, null, null, root, hidden));
      if (hidden) break;
      frontier = [{ id: '0', path: [], ...root }];
    }
    const next: Growing[] = [];
    for (const node of frontier) {
      if (depth >= input.maxDepth || node.customers < 2 * minChild) continue;
      const split = bestSplit(node, counts.get(node.id)?.features ?? [], {
        minChildCustomers: minChild,
        alpha: TREE_ALPHA,
        ...(k !== undefined ? { privacyK: k } : {}),
      });
      if (!split) continue;
      for (const [i, side] of [split.inGroup, split.rest].entries()) {
        const child: Growing = { id: `${node.id}.${i + 1}`, path: [...node.path, { feature: split.feature, value: split.value, inGroup: i === 0 }], ...side };
        nodes.push(nodeOf(features, population, child, node.id, split, root, false));
        next.push(child);
      }
    }
    frontier = depth + 1 < input.maxDepth ? next.filter((n) => n.customers >= 2 * minChild) : [];
  }
  return { asOf, nodes };
}

function nodeOf(
  features: readonly InsightFeature[],
  population: CustomerGroup,
  node: Growing,
  parentId: string | null,
  split: Split | null,
  root: { customers: number; conversions: number },
  hidden: boolean,
): TreeNode {
  const last = node.path.at(-1);
  const rate = node.customers > 0 ? node.conversions / node.customers : null;
  const rootRate = root.customers > 0 ? root.conversions / root.customers : null;
  return {
    id: node.id,
    parentId,
    depth: node.path.length,
    rule: nodeRule(features, population, node.path),
    feature: last ? (features[last.feature]?.name ?? null) : null,
    value: last ? last.value : null,
    inGroup: last ? last.inGroup : null,
    customers: hidden ? null : node.customers,
    conversions: hidden ? null : node.conversions,
    rate: hidden ? null : rate,
    lift: hidden || rate === null || !rootRate ? null : rate / rootRate,
    pValue: split?.adjustedPValue ?? null,
  };
}

/** The population's rule and the path's steps, as one rule in RuleInput form (null: every customer). */
function nodeRule(features: readonly InsightFeature[], population: CustomerGroup, path: readonly PathStep[]): Record<string, unknown> | null {
  const parts: Rule[] = [
    ...(population.kind === 'all' || population.rule === null ? [] : [population.rule]),
    ...path.map((step) => valueRule(features[step.feature] as InsightFeature, step.value, step.inGroup)),
  ];
  if (parts.length === 0) return null;
  return ruleToInput(parts.length === 1 ? (parts[0] as Rule) : { kind: 'and', filters: parts });
}

/** A step as a predicate over the relation's feature column (nulls are a value: the two sides partition the parent). */
function stepSql(step: PathStep): RawBuilder<unknown> {
  const column = sql.ref(`f${step.feature}`);
  if (step.value === null) return step.inGroup ? sql`${column} IS NULL` : sql`${column} IS NOT NULL`;
  return step.inGroup ? sql`${column} = ${step.value}` : sql`${column} IS DISTINCT FROM ${step.value}`;
}

/**
 * Per frontier node: its total and each feature's value counts, from one grouped statement
 * (`cubeSql`, keyed by the node); on the first level it also cuts the deciles of numeric
 * features without bins over the population, returned as the features' bins.
 */
async function countLevel(
  runtime: TagRuntime,
  relation: RawBuilder<unknown>,
  features: readonly InsightFeature[],
  frontier: readonly Growing[],
): Promise<{ features: InsightFeature[]; counts: Map<string, { total: { customers: number; conversions: number }; features: FeatureCounts[] }> }> {
  type Entry = { total: { customers: number; conversions: number }; features: { feature: number; values: ValueCounts[] }[] };
  const whens = frontier.map((node, i) => sql`WHEN ${node.path.length === 0 ? sql`TRUE` : sql.join(node.path.map(stepSql), sql` AND `)} THEN ${sql.lit(i)}`);
  const node = sql`CASE ${sql.join(whens, sql` `)} END`;
  const statement = cubeSql({
    relation,
    features,
    where: sql`pop AND ${node} IS NOT NULL`,
    node,
    counts: { customers: sql`COUNT(*)`, conversions: sql`COUNT(*) FILTER (WHERE goal)` },
  });
  const { rows } = await runtime.analytics.read((db) => withAnalyticSettings(db, (trx) => statement.execute(trx), INSIGHT_SETTINGS));
  const binned = cubeFeatures(features, rows);
  const out = new Map<string, Entry>();
  frontier.forEach((n) => out.set(n.id, { total: { customers: 0, conversions: 0 }, features: features.map((_, i) => ({ feature: i, values: [] })) }));
  for (const row of rows) {
    const entry = out.get(frontier[Number(row.node)]?.id ?? '');
    if (!entry) continue;
    const counts = { customers: Number(row.customers), conversions: Number(row.conversions) };
    const feature = groupedFeature(features.length, Number(row.grouping));
    if (feature < 0) {
      entry.total = counts;
      continue;
    }
    entry.features[feature]?.values.push({ value: cubeValue(features, binned, row, feature), ...counts });
  }
  const order = (a: { value: string | null }, b: { value: string | null }) =>
    a.value === b.value ? 0 : a.value === null ? 1 : b.value === null ? -1 : a.value < b.value ? -1 : 1;
  for (const entry of out.values()) for (const f of entry.features) f.values.sort(order);
  return { features: binned, counts: out };
}
