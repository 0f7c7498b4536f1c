import type { ValueType } from '../modeling/conditions/compare.ts';
import type { ConditionOp } from '../modeling/catalog/condition.ts';
import type { Leaf, Rule } from '../modeling/conditions/rule.ts';
import { StrataError } from '../modeling/errors.ts';
import { closestNames } from '../modeling/query/suggest.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { ruleMembers } from '../modeling/tags/rule-members.ts';
import { tagValueType, type TagDefinition } from '../modeling/tags/tag-definition.ts';
import type { TagSubject } from '../modeling/tags/tag-subject.ts';
import { binsOf, type Bin } from '../modeling/insight/bins.ts';
import { checkMembersCleared, type Viewer } from './access.ts';

/** Most features one comparison or tree may read. */
export const MAX_INSIGHT_FEATURES = 30;

/** A feature of insight: a customer dimension or a published tag, read as text (numbers as bins). */
export interface InsightFeature {
  /** As asked: `customer.channel`, `customer.tag.aum_tier`. */
  readonly name: string;
  readonly source: { readonly kind: 'dimension'; readonly ref: string } | { readonly kind: 'tag'; readonly key: string };
  readonly type: ValueType;
  /** Numeric features only: declared bins, or none yet (deciles are computed over the population). */
  readonly bins?: readonly Bin[];
}

/** Declared bin edges of a numeric feature. */
export interface FeatureBins {
  readonly feature: string;
  readonly edges: readonly number[];
}

/**
 * Resolves feature names against the subject's dimensions and the published tags: strings,
 * booleans and numbers (in declared bins or deciles); time dimensions and the key are not
 * features. Refuses a feature above the viewer's clearance.
 */
export function resolveFeatures(
  subject: TagSubject,
  live: ReadonlyMap<string, TagDefinition>,
  names: readonly string[],
  bins: readonly FeatureBins[],
  viewer: Viewer,
): InsightFeature[] {
  const unique = [...new Set(names)];
  if (unique.length === 0) throw new StrataError('BAD_USER_INPUT', 'features: name at least one feature, e.g. customer.channel or customer.tag.aum_tier');
  if (unique.length > MAX_INSIGHT_FEATURES) throw new StrataError('BAD_USER_INPUT', `features: at most ${MAX_INSIGHT_FEATURES} (got ${unique.length})`);
  const declared = new Map(bins.map((b) => [b.feature, b]));
  for (const b of bins) {
    if (!unique.includes(b.feature)) throw new StrataError('BAD_USER_INPUT', `bins: ${quoteInput(b.feature)} is not one of the features`);
    if (b.edges.length === 0 || b.edges.length > 50 || b.edges.some((e) => !Number.isFinite(e)))
      throw new StrataError('BAD_USER_INPUT', `bins of ${quoteInput(b.feature)}: 1 to 50 finite edges`);
  }
  const features = unique.map((name) => resolveFeature(subject, live, name));
  checkMembersCleared(
    viewer.principal,
    features.flatMap((f) => ruleMembers(featureLeaf(f, 'IS_NOT_NULL', []), subject, live)),
    'comparison',
  );
  return features.map((f) => {
    const edges = declared.get(f.name)?.edges;
    if (edges && f.type !== 'number') throw new StrataError('BAD_USER_INPUT', `bins: ${quoteInput(f.name)} is not numeric`);
    return edges ? { ...f, bins: binsOf(edges.map(String)) } : f;
  });
}

function resolveFeature(subject: TagSubject, live: ReadonlyMap<string, TagDefinition>, name: string): InsightFeature {
  const prefix = `${subject.model.name}.`;
  const tagPrefix = `${prefix}tag.`;
  if (name.startsWith(tagPrefix)) {
    const key = name.slice(tagPrefix.length);
    const tag = live.get(key);
    if (tag?.status !== 'PUBLISHED')
      throw new StrataError('UNKNOWN_MEMBER', `features: no published tag ${quoteInput(key)}`, {
        suggestions: closestNames(key, [...live.keys()]).map((k) => tagPrefix + k),
      });
    return { name, source: { kind: 'tag', key }, type: tagValueType(tag) };
  }
  const dimension = name.startsWith(prefix) ? subject.model.dimensions.find((d) => d.name === name.slice(prefix.length)) : undefined;
  if (!dimension) {
    const known = [...subject.model.dimensions.map((d) => prefix + d.name), ...[...live.keys()].map((k) => tagPrefix + k)];
    throw new StrataError('UNKNOWN_MEMBER', `features: unknown feature ${quoteInput(name)}; features are ${prefix}<dimension> or ${tagPrefix}<tag>`, {
      suggestions: closestNames(name, known),
    });
  }
  if (dimension.type === 'time' || dimension.name === subject.key)
    throw new StrataError(
      'BAD_USER_INPUT',
      `features: ${quoteInput(name)} is a ${dimension.type === 'time' ? 'time' : 'key'}; features are strings, booleans or numbers`,
    );
  return { name, source: { kind: 'dimension', ref: name }, type: dimension.type };
}

/** A comparison of the feature in the condition language. */
export function featureLeaf(feature: InsightFeature, op: ConditionOp, values: readonly string[]): Leaf {
  return feature.source.kind === 'tag' ? { kind: 'tag', tag: feature.source.key, op, values } : { kind: 'compare', dimension: feature.source.ref, op, values };
}

/**
 * The rule selecting the customers whose feature has `value` (a bin label for numbers; null
 * for no value), or, with `inGroup` false, everyone else: nulls included, so the two sides
 * together are exactly the whole.
 */
export function valueRule(feature: InsightFeature, value: string | null, inGroup: boolean): Rule {
  const leaf = (op: ConditionOp, values: readonly string[] = []) => featureLeaf(feature, op, values);
  if (value === null) return leaf(inGroup ? 'IS_NULL' : 'IS_NOT_NULL');
  const bin = feature.bins?.find((b) => b.label === value);
  if (feature.type === 'number' && bin) {
    if (inGroup) {
      const parts = [...(bin.lo !== null ? [leaf('GTE', [bin.lo])] : []), ...(bin.hi !== null ? [leaf('LT', [bin.hi])] : [])];
      return parts.length === 1 ? (parts[0] as Rule) : parts.length === 0 ? leaf('IS_NOT_NULL') : { kind: 'and', filters: parts };
    }
    const outside = [...(bin.lo !== null ? [leaf('LT', [bin.lo])] : []), ...(bin.hi !== null ? [leaf('GTE', [bin.hi])] : []), leaf('IS_NULL')];
    return outside.length === 1 ? (outside[0] as Rule) : { kind: 'or', filters: outside };
  }
  return inGroup ? leaf('EQ', [value]) : { kind: 'or', filters: [leaf('NEQ', [value]), leaf('IS_NULL')] };
}
