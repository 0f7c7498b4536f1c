import { describe, expect, it } from 'vitest';
import { readStoredRule } from './stored-rule.ts';
import { ruleToInput } from './rule-to-input.ts';
import { parseRule } from './parse-rule.ts';

const INPUT = {
  and: [
    { dimension: 'customer.age_band', op: 'IN', values: ['18-24', '25-34'] },
    { not: { tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] } },
    { or: [{ aggregate: { measure: 'transaction.purchase_amount', window: { days: 30 } }, op: 'GT', values: ['0'] }] },
  ],
};

describe('readStoredRule', () => {
  it('reads the input form rules are stored in', () => {
    const rule = parseRule(INPUT);
    expect(readStoredRule(ruleToInput(rule))).toEqual(rule);
  });

  it('reads audiences stored as the AST of earlier versions', () => {
    const legacy = {
      kind: 'and',
      rules: [
        { kind: 'dimension', dimension: 'customer.age_band', op: 'IN', values: ['18-24', '25-34'] },
        { kind: 'not', rule: { kind: 'tag', tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] } },
        { kind: 'or', rules: [{ kind: 'aggregate', aggregate: { measure: 'transaction.purchase_amount', window: { days: 30 } }, op: 'GT', values: ['0'] }] },
      ],
    };
    expect(readStoredRule(legacy)).toEqual(parseRule(INPUT));
  });

  it('validates what it reads', () => {
    expect(() => readStoredRule({ kind: 'dimension', dimension: 'customer.age_band', op: 'LIKE', values: ['x'] }, 'audiences.a.rule')).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: { path: 'audiences.a.rule.op' } }),
    );
  });
});
