import { describe, expect, it } from 'vitest';
import { buildCatalog } from './build-catalog.ts';
import { CatalogValidationError } from './validation-error.ts';
import { defineModel, type ModelSpec } from '../dsl/define-model.ts';
import { defineMetric } from '../dsl/define-metric.ts';
import { wealthCatalog } from '../../domains/wealth/catalog.ts';
import { indexCatalog } from './catalog-index.ts';
import { metricType } from './describe.ts';
import type { Metric } from './types.ts';
import { createSemanticLayer } from '../semantic-layer.ts';

const owner = 'team';
const base = (name: string, extra: Partial<ModelSpec> = {}): ModelSpec => ({
  name,
  description: `${name} rows`,
  owner,
  table: `s.${name}`,
  primaryKey: 'id',
  dimensions: { id: { type: 'string', description: 'id' }, at: { type: 'time', description: 'time' }, size: { type: 'number', description: 'size' } },
  defaultTimeDimension: 'at',
  ...extra,
});

function problemsOf(build: () => unknown): { path: string; code: string; message: string }[] {
  try {
    build();
  } catch (error) {
    if (error instanceof CatalogValidationError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the catalog to be refused');
}

describe('buildCatalog', () => {
  it('takes semi-additivity from the measure alone: a SIMPLE metric over a non-additive measure is SEMI_ADDITIVE to the API and planned so', () => {
    const catalog = wealthCatalog();
    const index = indexCatalog(catalog);
    const aum = index.metrics.get('aum') as Metric;
    expect(aum.type).toBe('SIMPLE');
    expect(metricType(index, aum)).toBe('SEMI_ADDITIVE');
    expect(metricType(index, index.metrics.get('purchase_amount') as Metric)).toBe('SIMPLE');
    const { plan } = createSemanticLayer(catalog, { maxRows: 10 }).plan({ metrics: ['aum'], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }] });
    expect(plan.nodes[0]).toMatchObject({ kind: 'aggregate', nonAdditive: { dimension: 'as_of', window: 'max' } });
  });

  it("refuses SEMI_ADDITIVE as a metric's own type, saying where semi-additivity belongs", () => {
    const model = defineModel(base('m', { measures: { n: { aggregation: 'count', description: 'n' } } }));
    const metric = { ...defineMetric({ name: 'x', type: 'SIMPLE', measure: 'm.n', description: 'x', owner }), type: 'SEMI_ADDITIVE' } as unknown as Metric;
    expect(problemsOf(() => buildCatalog({ models: [model], metrics: [metric] }))).toEqual([
      expect.objectContaining({
        path: 'metrics.x.type',
        code: 'INVALID_TYPE',
        message: expect.stringContaining('use SIMPLE over a measure with nonAdditive'),
      }),
    ]);
  });

  it('accepts the bundled wealth domain and freezes it', () => {
    const catalog = wealthCatalog();
    expect(catalog.metrics.map((m) => m.name)).toEqual(expect.arrayContaining(['aum', 'purchase_conversion_rate', 'revisit_rate_7d']));
    expect(Object.isFrozen(catalog.models[0]?.dimensions)).toBe(true);
    expect(() => (catalog.metrics as unknown as unknown[]).push({})).toThrow();
  });

  it('reports every problem at once, each with its path', () => {
    const a = defineModel(
      base('a', {
        measures: { total: { aggregation: 'sum', sql: 'size', description: 'total', timeDimension: 'size' } },
        joins: { b: { model: 'b', cardinality: 'many_to_one', on: { b_id: 'id' } }, ghost: { model: 'nowhere', cardinality: 'many_to_one', on: { x: 'id' } } },
      }),
    );
    const b = defineModel(base('b', { joins: { a: { model: 'a', cardinality: 'many_to_one', on: { a_id: 'id' } } } }));
    const metrics = [
      defineMetric({ name: 'missing', type: 'SIMPLE', measure: 'a.nope', description: 'd', owner }),
      defineMetric({ name: 'loop_1', type: 'DERIVED', expression: 'loop_2 + 1', inputs: ['loop_2'], description: 'd', owner }),
      defineMetric({ name: 'loop_2', type: 'DERIVED', expression: 'loop_1 * 2', inputs: ['loop_1'], description: 'd', owner }),
      defineMetric({ name: 'undocumented', type: 'SIMPLE', measure: 'a.total', description: '', owner: '' }),
      defineMetric({
        name: 'bad_filter',
        type: 'SIMPLE',
        measure: 'a.total',
        description: 'd',
        owner,
        filter: { dimension: 'a.size', op: 'GT', values: ['big'] },
      }),
    ];
    const problems = problemsOf(() => buildCatalog({ models: [a, b], metrics }));
    const has = (path: string, code: string) => expect(problems).toContainEqual(expect.objectContaining({ path, code }));
    has('models.a.measures.total.timeDimension', 'TYPE_MISMATCH');
    has('models.a.joins.ghost', 'UNKNOWN_MODEL');
    expect(problems.some((p) => p.code === 'JOIN_CYCLE')).toBe(true);
    has('metrics.missing.measure', 'UNKNOWN_MEASURE');
    expect(problems.filter((p) => p.code === 'CIRCULAR_METRIC').map((p) => p.message)).toEqual([
      expect.stringMatching(/loop_1 -> loop_2 -> loop_1|loop_2 -> loop_1 -> loop_2/),
    ]);
    has('metrics.undocumented.description', 'MISSING_DESCRIPTION');
    has('metrics.undocumented.owner', 'MISSING_OWNER');
    has('metrics.bad_filter.filter', 'TYPE_MISMATCH');
  });

  it('refuses a role reached by two join paths of the same length', () => {
    const fact = defineModel(
      base('fact', {
        joins: { left: { model: 'left', cardinality: 'many_to_one', on: { l: 'id' } }, right: { model: 'right', cardinality: 'many_to_one', on: { r: 'id' } } },
      }),
    );
    const left = defineModel(base('left', { joins: { country: { model: 'country', cardinality: 'many_to_one', on: { c: 'id' } } } }));
    const right = defineModel(base('right', { joins: { country: { model: 'country', cardinality: 'many_to_one', on: { c: 'id' } } } }));
    const country = defineModel(base('country'));
    const problems = problemsOf(() => buildCatalog({ models: [fact, left, right, country], metrics: [] }));
    expect(problems).toContainEqual(expect.objectContaining({ path: 'models.fact.joins', code: 'AMBIGUOUS_JOIN_PATH' }));
  });

  it('lets a draft metric go without an owner but not a published one', () => {
    const a = defineModel(base('a', { measures: { n: { aggregation: 'count', description: 'rows' } } }));
    const draft = defineMetric({ name: 'draft', type: 'SIMPLE', measure: 'a.n', description: '', owner: '', status: 'DRAFT' });
    expect(() => buildCatalog({ models: [a], metrics: [draft] })).not.toThrow();
  });

  it('refuses an unknown alias in a derived expression and a measure filter on an unreachable dimension', () => {
    const a = defineModel(
      base('a', { measures: { n: { aggregation: 'count', description: 'rows', filter: { dimension: 'elsewhere.size', op: 'EQ', values: ['1'] } } } }),
    );
    const derived = defineMetric({ name: 'd', type: 'DERIVED', expression: 'x + y', inputs: [{ metric: 'm', alias: 'x' }], description: 'd', owner });
    const m = defineMetric({ name: 'm', type: 'SIMPLE', measure: 'a.n', description: 'd', owner });
    const problems = problemsOf(() => buildCatalog({ models: [a], metrics: [m, derived] }));
    expect(problems).toContainEqual(expect.objectContaining({ path: 'metrics.d.expression', code: 'UNKNOWN_METRIC' }));
    expect(problems).toContainEqual(expect.objectContaining({ path: 'models.a.measures.n.filter', code: 'UNKNOWN_MEMBER' }));
  });
});
