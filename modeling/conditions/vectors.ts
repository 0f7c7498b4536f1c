import type { Rule } from './rule.ts';
import type { CustomerFeatures } from './evaluate-rule.ts';
import type { Truth, ValueType } from './compare.ts';

/** The members the shared vectors use, with their types. */
export const VECTOR_TYPES: { dimensions: Record<string, ValueType>; tags: Record<string, ValueType> } = {
  dimensions: { 'customer.age_band': 'string', 'customer.city_tier': 'number', 'customer.kyc_completed': 'boolean' },
  tags: { aum_tier: 'string', fund_buyer_30d: 'boolean', score: 'number' },
};

export const SPEND = { measure: 'transaction.purchase_amount', window: { days: 30 } };
const spendKey = 'transaction.purchase_amount@30d';

const someone = (overrides: Partial<{ dimensions: Record<string, unknown>; tags: Record<string, unknown>; spend: number | null }> = {}): CustomerFeatures => ({
  dimensions: { 'customer.age_band': '25-34', 'customer.city_tier': 2, 'customer.kyc_completed': true, ...overrides.dimensions },
  tags: { aum_tier: 'affluent', fund_buyer_30d: false, score: 7.5, ...overrides.tags },
  aggregates: { [spendKey]: overrides.spend === undefined ? 1200.5 : overrides.spend },
});

const dim = (dimension: string, op: Extract<Rule, { kind: 'dimension' }>['op'], values: string[] = []): Rule => ({ kind: 'dimension', dimension, op, values });
const tag = (key: string, op: Extract<Rule, { kind: 'tag' }>['op'], values: string[] = []): Rule => ({ kind: 'tag', tag: key, op, values });
const spend = (op: Extract<Rule, { kind: 'aggregate' }>['op'], values: string[] = []): Rule => ({ kind: 'aggregate', aggregate: SPEND, op, values });

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
  {
    name: 'number GT is numeric, not textual',
    rule: dim('customer.city_tier', 'GT', ['10']),
    features: someone({ dimensions: { 'customer.city_tier': 9 } }),
    expected: false,
  },
  { name: 'number BETWEEN is inclusive', rule: dim('customer.city_tier', 'BETWEEN', ['1', '2']), features: someone(), expected: true },
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
    rule: { kind: 'not', rule: dim('customer.age_band', 'EQ', ['25-34']) },
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
    rule: { kind: 'and', rules: [tag('fund_buyer_30d', 'EQ', ['true']), dim('customer.age_band', 'EQ', ['x'])] },
    features: someone({ dimensions: { 'customer.age_band': null } }),
    expected: false,
  },
  {
    name: 'true AND unknown is unknown',
    rule: { kind: 'and', rules: [tag('fund_buyer_30d', 'EQ', ['false']), dim('customer.age_band', 'EQ', ['x'])] },
    features: someone({ dimensions: { 'customer.age_band': null } }),
    expected: null,
  },
  {
    name: 'true OR unknown is true',
    rule: { kind: 'or', rules: [tag('fund_buyer_30d', 'EQ', ['false']), dim('customer.age_band', 'EQ', ['x'])] },
    features: someone({ dimensions: { 'customer.age_band': null } }),
    expected: true,
  },
  {
    name: 'false OR unknown is unknown',
    rule: { kind: 'or', rules: [tag('fund_buyer_30d', 'EQ', ['true']), dim('customer.age_band', 'EQ', ['x'])] },
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
      rules: [
        { kind: 'or', rules: [dim('customer.age_band', 'IN', ['18-24']), { kind: 'not', rule: tag('aum_tier', 'EQ', ['mass']) }] },
        spend('BETWEEN', ['1000', '2000']),
        { kind: 'not', rule: dim('customer.city_tier', 'IN', ['3', '4']) },
      ],
    },
    features: someone(),
    expected: true,
  },
];
