import { describe, expect, it } from 'vitest';
import { evaluateRule } from './evaluate-rule.ts';
import { FILTER_VECTOR_TYPES, FILTER_VECTORS, RULE_VECTORS, VECTOR_TIME_ZONE, VECTOR_TYPES } from './vectors.ts';
import { evaluateCondition } from './evaluate-condition.ts';
import { parseRule } from './parse-rule.ts';

const types = {
  dimensionType: (ref: string) => VECTOR_TYPES.dimensions[ref] ?? 'string',
  tagType: (key: string) => VECTOR_TYPES.tags[key] ?? 'string',
  timeZone: VECTOR_TIME_ZONE,
};

describe('evaluateRule', () => {
  it.each(RULE_VECTORS.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    expect(evaluateRule(vector.rule, vector.features, types)).toBe(vector.expected);
  });
});

describe('evaluateCondition on metric filters', () => {
  it.each(FILTER_VECTORS.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    const truth = evaluateCondition(vector.filter, (leaf) =>
      leaf.kind === 'metric'
        ? { type: 'number', value: vector.features.metrics[leaf.metric] }
        : { type: FILTER_VECTOR_TYPES[leaf.dimension] ?? 'string', value: vector.features.dimensions[leaf.dimension], timeZone: VECTOR_TIME_ZONE },
    );
    expect(truth).toBe(vector.expected);
  });
});

describe('parseRule', () => {
  it('reads API.md rules', () => {
    expect(
      parseRule({
        and: [
          { dimension: 'customer.age_band', op: 'IN', values: ['18-24', '25-34'] },
          { tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] },
          { aggregate: { measure: 'transaction.purchase_amount', window: { days: 30 } }, op: 'GT', values: ['0'], dimension: null },
        ],
      }),
    ).toEqual({
      kind: 'and',
      filters: [
        { kind: 'compare', dimension: 'customer.age_band', op: 'IN', values: ['18-24', '25-34'] },
        { kind: 'tag', tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] },
        { kind: 'aggregate', aggregate: { measure: 'transaction.purchase_amount', window: { days: 30 } }, op: 'GT', values: ['0'] },
      ],
    });
  });

  it.each([
    [{ and: [{ dimension: 'customer.age_band', op: 'LIKE', values: ['x'] }] }, 'rule.and[0].op'],
    [{ and: [{ dimension: 'customer.age_band', op: 'EQ' }] }, 'rule.and[0].values'],
    [{ and: [], dimension: 'x' }, 'rule'],
    [{ or: [{ tag: 'a', dimension: 'b', op: 'EQ', values: ['1'] }] }, 'rule.or[0]'],
    [{ not: { aggregate: { measure: 'transaction.purchase_amount', window: { days: 0 } }, op: 'GT', values: ['0'] } }, 'rule.not.aggregate.window.days'],
    [{ dimension: "customer.age_band'; DROP TABLE x; --", op: 'EQ', values: ['1'] }, 'rule.dimension'],
    [{ dimension: 'customer.age_band', op: 'BETWEEN', values: ['1'] }, 'rule.values'],
  ])('refuses %j at %s', (input, path) => {
    expect(() => parseRule(input)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { path } }));
  });

  it('refuses rules nested too deep', () => {
    let rule: object = { dimension: 'customer.age_band', op: 'EQ', values: ['x'] };
    for (let i = 0; i < 20; i++) rule = { not: rule };
    expect(() => parseRule(rule)).toThrow(/nest at most/);
  });
});
