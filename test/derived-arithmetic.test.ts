import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { defineModel } from '../modeling/dsl/define-model.ts';
import { defineMetric } from '../modeling/dsl/define-metric.ts';
import { buildCatalog } from '../modeling/catalog/build-catalog.ts';
import { createSemanticLayer, type SemanticLayer } from '../modeling/semantic-layer.ts';

/**
 * Arithmetic traps of derived metrics over integer aggregates (counts are bigint in
 * PostgreSQL): a decimal literal must stay a decimal, a division of two counts must not
 * truncate, negative literals must not turn into `--` comments, and scientific notation
 * must be read as the number it is. 5 rows, 2 of them flagged: a = 5, b = 2.
 */

const owner = 'test';
const derived = (name: string, expression: string) =>
  defineMetric({ name, type: 'DERIVED', expression, inputs: [{ metric: 'a' }, { metric: 'b' }], description: expression, owner });

const catalog = buildCatalog({
  models: [
    defineModel({
      name: 'row',
      description: 'r',
      owner,
      table: 'arith.rows',
      primaryKey: 'id',
      defaultTimeDimension: 'at',
      dimensions: { at: { type: 'time', description: 't' }, flagged: { type: 'boolean', description: 'f' } },
      measures: {
        rows: { aggregation: 'count', description: 'n' },
        flagged_rows: { aggregation: 'count', filter: { dimension: 'flagged', op: 'EQ', values: ['true'] }, description: 'n' },
      },
      joins: {},
    }),
  ],
  metrics: [
    defineMetric({ name: 'a', type: 'SIMPLE', measure: 'row.rows', description: 'a', owner }),
    defineMetric({ name: 'b', type: 'SIMPLE', measure: 'row.flagged_rows', description: 'b', owner }),
    derived('decimal_literal', '(a - b) * 1.0 / a'),
    derived('decimal_sum', '0.1 + 0.2 + b - b'),
    derived('integer_division', 'b / a'),
    derived('integer_division_nested', '(a - b) / a * 10'),
    derived('negative_literal', 'a - -2'),
    derived('negative_decimal', '-2.50 * a'),
    derived('negated_negative', '- -a + b'),
    derived('scientific', 'a * 1e2 + b * 2.5e-1'),
  ],
});

await describeEachEngine('derived-metric arithmetic on %s', (engine) => {
  let database: TestDatabase;
  let layer: SemanticLayer;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    layer = createSemanticLayer(catalog, { maxRows: 100 });
    for (const statement of [
      sql`CREATE SCHEMA arith`,
      sql`CREATE TABLE arith.rows (id int PRIMARY KEY, flagged boolean, at timestamptz)`,
      sql`INSERT INTO arith.rows VALUES (1, true, '2026-01-01'), (2, true, '2026-01-02'), (3, false, '2026-01-03'), (4, false, '2026-01-04'), (5, false, '2026-01-05')`,
    ])
      await statement.execute(database.db);
  });
  afterAll(() => database.dispose());

  const value = async (metric: string) => {
    const { rows } = await layer.query(database.db, { metrics: [metric] });
    return rows[0]?.[metric];
  };

  it('keeps a decimal literal decimal: (a - b) * 1.0 / a is 0.6, not 0', async () => {
    expect(await value('decimal_literal')).toBeCloseTo(0.6, 12);
  });

  it('keeps decimal literals exact (numeric, not float): 0.1 + 0.2 is 0.3', async () => {
    expect(await value('decimal_sum')).toBe(0.3);
  });

  it('never divides two integer aggregates as integers', async () => {
    expect(await value('integer_division')).toBeCloseTo(0.4, 12);
    expect(await value('integer_division_nested')).toBeCloseTo(6, 12);
  });

  it('reads negative literals as numbers, never as a -- comment', async () => {
    expect(await value('negative_literal')).toBe(7);
    expect(await value('negative_decimal')).toBe(-12.5);
    expect(await value('negated_negative')).toBe(7);
  });

  it('reads scientific notation as the number it is', async () => {
    expect(await value('scientific')).toBe(500.5);
  });
});
