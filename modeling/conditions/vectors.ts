import type { Rule } from './rule.ts';
import type { Condition, ConditionOp, DimensionLeaf, MetricLeaf } from '../catalog/condition.ts';
import { ruleToFilter } from './rule-to-filter.ts';
import type { CustomerFeatures } from './evaluate-rule.ts';
import type { Truth, ValueType } from './compare.ts';

/** The members the shared vectors use, with their types. */
export const VECTOR_TYPES: { dimensions: Record<string, ValueType>; tags: Record<string, ValueType> } = {
  dimensions: { 'customer.age_band': 'string', 'customer.city_tier': 'number', 'customer.kyc_completed': 'boolean', 'customer.kyc_completed_at': 'time' },
  tags: { aum_tier: 'string', fund_buyer_30d: 'boolean', score: 'number' },
};

/** The subject model's reporting time zone: time literals without an offset are wall times there. */
export const VECTOR_TIME_ZONE = 'Asia/Shanghai';

export const SPEND = { measure: 'transaction.purchase_amount', window: { days: 30 } };
const spendKey = 'transaction.purchase_amount@30d';

const someone = (overrides: Partial<{ dimensions: Record<string, unknown>; tags: Record<string, unknown>; spend: number | null }> = {}): CustomerFeatures => ({
  dimensions: {
    'customer.age_band': '25-34',
    'customer.city_tier': 2,
    'customer.kyc_completed': true,
    'customer.kyc_completed_at': '2026-02-28T16:30:00Z',
    ...overrides.dimensions,
  },
  tags: { aum_tier: 'affluent', fund_buyer_30d: false, score: 7.5, ...overrides.tags },
  aggregates: { [spendKey]: overrides.spend === undefined ? 1200.5 : overrides.spend },
});

const dim = (dimension: string, op: ConditionOp, values: string[] = []): Rule => ({ kind: 'compare', dimension, op, values });
const tag = (key: string, op: ConditionOp, values: string[] = []): Rule => ({ kind: 'tag', tag: key, op, values });
const spend = (op: ConditionOp, values: string[] = []): Rule => ({ kind: 'aggregate', aggregate: SPEND, op, values });

export interface RuleVector {
  readonly name: string;
  readonly rule: Rule;
  readonly features: CustomerFeatures;
  /** true, false, or null (unknown): what SQL's three-valued logic gives. */
  readonly expected: Truth;
}

/** Shared test vectors: the SQL compiler and the in-memory evaluator must both give `expected`. */
export const RULE_VECTORS: readonly RuleVector[] = [
  { name: 'string IN', rule: dim('customer.age_band', 'IN', ['18-24', '25-34']), features: someone(), expected: true },
  { name: 'string NOT_IN', rule: dim('customer.age_band', 'NOT_IN', ['25-34']), features: someone(), expected: false },
  {
    name: 'string order is code-unit order',
    rule: dim('customer.age_band', 'LT', ['55+']),
    features: someone({ dimensions: { 'customer.age_band': '45-54' } }),
    expected: true,
  },
  { name: 'uppercase sorts before lowercase', rule: tag('aum_tier', 'LT', ['affluent']), features: someone({ tags: { aum_tier: 'Zeta' } }), expected: true },
  { name: 'uppercase is not greater than lowercase', rule: tag('aum_tier', 'GT', ['b']), features: someone({ tags: { aum_tier: 'Zeta' } }), expected: false },
  {
    name: 'lowercase is at least uppercase',
    rule: dim('customer.age_band', 'GTE', ['B']),
    features: someone({ dimensions: { 'customer.age_band': 'a' } }),
    expected: true,
  },
  {
    name: 'BETWEEN on strings is code-point order',
    rule: tag('aum_tier', 'BETWEEN', ['A', 'Z']),
    features: someone({ tags: { aum_tier: 'b' } }),
    expected: false,
  },
  {
    name: 'characters beyond U+FFFF sort after U+FFxx, as UTF-8 bytes do',
    rule: tag('aum_tier', 'GT', ['\uff71']),
    features: someone({ tags: { aum_tier: '\u{1f600}' } }),
    expected: true,
  },
  {
    name: 'number GT is numeric, not textual',
    rule: dim('customer.city_tier', 'GT', ['10']),
    features: someone({ dimensions: { 'customer.city_tier': 9 } }),
    expected: false,
  },
  { name: 'number BETWEEN is inclusive', rule: dim('customer.city_tier', 'BETWEEN', ['1', '2']), features: someone(), expected: true },
  { name: 'a date is midnight in the reporting time zone', rule: dim('customer.kyc_completed_at', 'GTE', ['2026-03-01']), features: someone(), expected: true },
  {
    name: 'a time without an offset is wall time in the reporting time zone',
    rule: dim('customer.kyc_completed_at', 'GT', ['2026-03-01 00:29']),
    features: someone(),
    expected: true,
  },
  {
    name: 'a time with an offset is read as written',
    rule: dim('customer.kyc_completed_at', 'BETWEEN', ['2026-02-28T16:00:00Z', '2026-02-28T18:00:00+01:00']),
    features: someone(),
    expected: true,
  },
  {
    name: 'a missing time compares as unknown',
    rule: dim('customer.kyc_completed_at', 'GT', ['2026-01-01']),
    features: someone({ dimensions: { 'customer.kyc_completed_at': null } }),
    expected: null,
  },
  { name: 'boolean EQ', rule: dim('customer.kyc_completed', 'EQ', ['true']), features: someone(), expected: true },
  { name: 'boolean EQ false', rule: dim('customer.kyc_completed', 'EQ', ['false']), features: someone(), expected: false },
  {
    name: 'missing value compares as unknown',
    rule: dim('customer.age_band', 'EQ', ['25-34']),
    features: someone({ dimensions: { 'customer.age_band': null } }),
    expected: null,
  },
  {
    name: 'NOT of unknown is unknown',
    rule: { kind: 'not', filter: dim('customer.age_band', 'EQ', ['25-34']) },
    features: someone({ dimensions: { 'customer.age_band': null } }),
    expected: null,
  },
  { name: 'NEQ with a missing value is unknown', rule: tag('aum_tier', 'NEQ', ['mass']), features: someone({ tags: { aum_tier: null } }), expected: null },
  {
    name: 'NOT_IN with a missing value is unknown',
    rule: tag('aum_tier', 'NOT_IN', ['mass']),
    features: someone({ tags: { aum_tier: null } }),
    expected: null,
  },
  { name: 'IS_NULL', rule: tag('aum_tier', 'IS_NULL'), features: someone({ tags: { aum_tier: null } }), expected: true },
  { name: 'IS_NOT_NULL', rule: tag('aum_tier', 'IS_NOT_NULL'), features: someone({ tags: { aum_tier: null } }), expected: false },
  {
    name: 'false AND unknown is false',
    rule: { kind: 'and', filters: [tag('fund_buyer_30d', 'EQ', ['true']), dim('customer.age_band', 'EQ', ['x'])] },
    features: someone({ dimensions: { 'customer.age_band': null } }),
    expected: false,
  },
  {
    name: 'true AND unknown is unknown',
    rule: { kind: 'and', filters: [tag('fund_buyer_30d', 'EQ', ['false']), dim('customer.age_band', 'EQ', ['x'])] },
    features: someone({ dimensions: { 'customer.age_band': null } }),
    expected: null,
  },
  {
    name: 'true OR unknown is true',
    rule: { kind: 'or', filters: [tag('fund_buyer_30d', 'EQ', ['false']), dim('customer.age_band', 'EQ', ['x'])] },
    features: someone({ dimensions: { 'customer.age_band': null } }),
    expected: true,
  },
  {
    name: 'false OR unknown is unknown',
    rule: { kind: 'or', filters: [tag('fund_buyer_30d', 'EQ', ['true']), dim('customer.age_band', 'EQ', ['x'])] },
    features: someone({ dimensions: { 'customer.age_band': null } }),
    expected: null,
  },
  { name: 'aggregate GT with decimals', rule: spend('GT', ['1200.49']), features: someone(), expected: true },
  { name: 'aggregate GTE boundary', rule: spend('GTE', ['1200.5']), features: someone(), expected: true },
  { name: 'aggregate without rows is unknown', rule: spend('GT', ['0']), features: someone({ spend: null }), expected: null },
  { name: 'numeric tag LTE', rule: tag('score', 'LTE', ['7.5']), features: someone(), expected: true },
  { name: 'CONTAINS on a string', rule: dim('customer.age_band', 'CONTAINS', ['5-3']), features: someone(), expected: true },
  { name: 'STARTS_WITH on a string', rule: tag('aum_tier', 'STARTS_WITH', ['aff']), features: someone(), expected: true },
  { name: 'CONTAINS on a missing value is unknown', rule: tag('aum_tier', 'CONTAINS', ['a']), features: someone({ tags: { aum_tier: null } }), expected: null },
  {
    name: 'nested combination',
    rule: {
      kind: 'and',
      filters: [
        { kind: 'or', filters: [dim('customer.age_band', 'IN', ['18-24']), { kind: 'not', filter: tag('aum_tier', 'EQ', ['mass']) }] },
        spend('BETWEEN', ['1000', '2000']),
        { kind: 'not', filter: dim('customer.city_tier', 'IN', ['3', '4']) },
      ],
    },
    features: someone(),
    expected: true,
  },
];

/** What a metric filter vector reads: dimensions (tags as `customer.tag.<key>`) and metric values by name. */
export interface FilterFeatures {
  readonly dimensions: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, number | null>>;
}

export interface FilterVector {
  readonly name: string;
  readonly filter: Condition<DimensionLeaf<never> | MetricLeaf>;
  readonly features: FilterFeatures;
  readonly expected: Truth;
}

/** The dimension types of the metric filter vectors: the subject's dimensions and its tags as `customer.tag.<key>`. */
export const FILTER_VECTOR_TYPES: Readonly<Record<string, ValueType>> = {
  ...VECTOR_TYPES.dimensions,
  ...Object.fromEntries(Object.entries(VECTOR_TYPES.tags).map(([key, type]) => [`customer.tag.${key}`, type])),
};

const asFilterFeatures = (features: CustomerFeatures, metrics: Record<string, number | null> = {}): FilterFeatures => ({
  dimensions: { ...features.dimensions, ...Object.fromEntries(Object.entries(features.tags).map(([key, value]) => [`customer.tag.${key}`, value])) },
  metrics,
});
const bookings = (op: ConditionOp, values: string[]): MetricLeaf => ({ kind: 'metric', metric: 'bookings', groupBy: ['customer'], op, values });
const hasAggregate = (rule: Rule): boolean =>
  rule.kind === 'aggregate' ||
  (rule.kind === 'not' ? hasAggregate(rule.filter) : (rule.kind === 'and' || rule.kind === 'or') && rule.filters.some(hasAggregate));

/**
 * The same vectors as metric filters: every rule vector without an aggregate leaf (aggregates
 * have no metric-filter form), its tags read as `customer.tag.<key>` dimensions as a metric
 * query names them, plus `Metric(...)` leaves, which only filters have.
 */
export const FILTER_VECTORS: readonly FilterVector[] = [
  ...RULE_VECTORS.filter((v) => !hasAggregate(v.rule)).map((v) => ({
    name: v.name,
    filter: ruleToFilter(v.rule, 'customer'),
    features: asFilterFeatures(v.features),
    expected: v.expected,
  })),
  { name: 'metric GT', filter: bookings('GT', ['2']), features: asFilterFeatures(someone(), { bookings: 3 }), expected: true },
  { name: 'metric without a value is unknown', filter: bookings('GT', ['2']), features: asFilterFeatures(someone(), { bookings: null }), expected: null },
  {
    name: 'metric BETWEEN with a string tag',
    filter: { kind: 'and', filters: [bookings('BETWEEN', ['1', '2.5']), { kind: 'compare', dimension: 'customer.tag.aum_tier', op: 'LT', values: ['b'] }] },
    features: asFilterFeatures(someone({ tags: { aum_tier: 'Zeta' } }), { bookings: 2.5 }),
    expected: true,
  },
  {
    name: 'NOT of a metric IS_NULL',
    filter: { kind: 'not', filter: bookings('IS_NULL', []) },
    features: asFilterFeatures(someone(), { bookings: null }),
    expected: false,
  },
];
