import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { wealthCatalog } from '../../domains/wealth/catalog.ts';
import { buildCatalog } from './build-catalog.ts';
import { indexCatalog } from './catalog-index.ts';
import { toFilter, type FilterInput } from './filter-input.ts';
import type { Filter, Model } from './types.ts';
import { compileMetricQuery } from '../plan/compile-metric-query.ts';
import { compare } from '../conditions/compare.ts';
import { comparisonSql } from '../conditions/condition-sql.ts';
import type { ConditionOp } from './condition.ts';
import { CONDITION_LIMITS } from './condition-limits.ts';
import { parseRule } from '../conditions/parse-rule.ts';
import { validateCondition } from './validate-condition.ts';

const { maxDepth, maxComparisons, maxValues } = CONDITION_LIMITS;
const LEAF = { dimension: 'customer.channel', op: 'EQ', values: ['app'] };
const nestedInput = (levels: number): Record<string, unknown> => (levels === 0 ? LEAF : { not: nestedInput(levels - 1) });
const nestedAst = (levels: number): Filter =>
  levels === 0 ? { kind: 'compare', dimension: 'customer.channel', op: 'EQ', values: ['app'] } : { kind: 'not', filter: nestedAst(levels - 1) };

/** The error a reader throws, as the client sees it: code, message, details. */
function refusal(read: () => unknown): { code?: unknown; message: string; details?: unknown } | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    const e = error as { code?: unknown; message: string; details?: unknown };
    return { code: e.code, message: e.message, details: e.details };
  }
}

const index = indexCatalog(wealthCatalog());
const compile = (where: Filter) =>
  compileMetricQuery(index, { metrics: ['purchase_amount'], groupBy: [{ dimension: 'customer.channel' }], where }, { maxRows: 100 });

/** The wealth catalog with one measure's filter replaced. */
function catalogWithMeasureFilter(filter: Filter) {
  const catalog = wealthCatalog();
  const models = catalog.models.map(
    (m): Model => (m.name === 'transaction' ? { ...m, measures: m.measures.map((x) => (x.name === 'purchases' ? { ...x, filter } : x)) } : m),
  );
  return () => buildCatalog({ models, metrics: catalog.metrics, ...(catalog.timeSpines ? { timeSpines: catalog.timeSpines } : {}) });
}

describe('one validator for metric filters and rules', () => {
  it.each([
    ['too deep', nestedInput(maxDepth + 1)],
    ['too many comparisons', { or: Array.from({ length: maxComparisons + 1 }, () => LEAF) }],
    ['too many values', { dimension: 'customer.channel', op: 'IN', values: Array(maxValues + 1).fill('a') }],
    ['an unknown operator', { and: [LEAF, { dimension: 'customer.channel', op: 'LIKE', values: ['a%'] }] }],
    ['the wrong number of values', { dimension: 'customer.channel', op: 'BETWEEN', values: ['a'] }],
  ])('refuses a filter and a rule that are %s with the same coded error', (_what, input) => {
    const asRule = refusal(() => parseRule(input, 'at'));
    const asFilter = refusal(() => toFilter(input as FilterInput, 'at'));
    expect(asRule?.code).toBe('BAD_USER_INPUT');
    expect(asFilter).toEqual({ ...asRule, message: asRule?.message.replace(/\brules?\b/g, (w) => w.replace('rule', 'filter')) });
  });

  it('refuses filters built in code over the limits or with an unknown operator, when queried and in the catalog', () => {
    const deep = nestedAst(maxDepth + 1);
    const like = { kind: 'compare', dimension: 'customer.channel', op: 'LIKE' as ConditionOp, values: ['a%'] } as const;
    const shortBetween: Filter = { kind: 'compare', dimension: 'customer.channel', op: 'BETWEEN', values: ['a'] };
    expect(refusal(() => compile(deep))).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining(`filters nest at most ${maxDepth} levels deep`),
    });
    expect(refusal(() => compile(like))).toMatchObject({ code: 'BAD_USER_INPUT', details: { path: 'where.op' } });
    expect(refusal(() => compile(shortBetween))).toMatchObject({ code: 'BAD_USER_INPUT', details: { path: 'where.values' } });
    for (const filter of [deep, like]) {
      const problems = (refusal(catalogWithMeasureFilter(filter)) as { details?: unknown } & { message: string }).message;
      expect(problems).toContain('models.transaction.measures.purchases.filter');
      expect(problems).toContain('[INVALID_FILTER]');
    }
    expect(refusal(catalogWithMeasureFilter(nestedAst(maxDepth)))).toBeUndefined();
  });

  it('has no fallthrough for an operator outside the language, in SQL or in memory', () => {
    const op = 'LIKE' as ConditionOp;
    expect(refusal(() => comparisonSql({ expr: sql.ref('c.channel'), type: 'string' }, op, ['a']))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(refusal(() => compare('string', 'app', op, ['a']))).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('returns a valid condition as it is', () => {
    const filter = nestedAst(maxDepth);
    expect(validateCondition(filter, { noun: 'filter', path: 'where' })).toBe(filter);
  });
});
