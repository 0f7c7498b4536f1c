import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { defineModel } from '../modeling/dsl/define-model.ts';
import { defineMetric } from '../modeling/dsl/define-metric.ts';
import { buildCatalog } from '../modeling/catalog/build-catalog.ts';
import { createSemanticLayer, type SemanticLayer } from '../modeling/semantic-layer.ts';
import { StrataError } from '../modeling/errors.ts';

const owner = 'test';
const catalog = buildCatalog({
  models: [
    defineModel({
      name: 'customer',
      description: 'c',
      owner,
      table: 'trap.customers',
      primaryKey: 'id',
      defaultTimeDimension: 'joined_at',
      dimensions: { segment: { type: 'string', description: 's' }, joined_at: { type: 'time', description: 't' } },
      measures: { customers: { aggregation: 'count', description: 'n' } },
      joins: { order: { model: 'order', cardinality: 'one_to_many', on: { id: 'customer_id' } } },
    }),
    defineModel({
      name: 'order',
      description: 'o',
      owner,
      table: 'trap.orders',
      primaryKey: 'id',
      defaultTimeDimension: 'at',
      dimensions: { at: { type: 'time', description: 't' }, status: { type: 'string', description: 's' } },
      measures: {
        amount: { aggregation: 'sum', description: 'a' },
        orders: { aggregation: 'count', description: 'n' },
        paid_amount: { aggregation: 'sum', sql: 'amount', filter: { dimension: 'status', op: 'EQ', values: ['paid'] }, description: 'p' },
        cancelled_orders: { aggregation: 'count', filter: { dimension: 'status', op: 'EQ', values: ['cancelled'] }, description: 'c' },
        cancelled_customers: {
          aggregation: 'count_distinct',
          sql: 'customer_id',
          filter: { dimension: 'status', op: 'EQ', values: ['cancelled'] },
          description: 'c',
        },
      },
      joins: {
        customer: { model: 'customer', cardinality: 'many_to_one', on: { customer_id: 'id' } },
        order_item: { model: 'order_item', cardinality: 'one_to_many', on: { id: 'order_id' } },
      },
    }),
    defineModel({
      name: 'order_item',
      description: 'i',
      owner,
      table: 'trap.order_items',
      primaryKey: 'id',
      defaultTimeDimension: 'at',
      dimensions: { sku: { type: 'string', description: 's' }, at: { type: 'time', description: 't' } },
      measures: { quantity: { aggregation: 'sum', sql: 'qty', description: 'q' } },
      joins: { order: { model: 'order', cardinality: 'many_to_one', on: { order_id: 'id' } } },
    }),
    defineModel({
      name: 'visit',
      description: 'v',
      owner,
      table: 'trap.visits',
      primaryKey: 'id',
      defaultTimeDimension: 'at',
      dimensions: { at: { type: 'time', description: 't' } },
      measures: { visits: { aggregation: 'count', description: 'n' } },
      joins: { customer: { model: 'customer', cardinality: 'many_to_one', on: { customer_id: 'id' } } },
    }),
  ],
  metrics: [
    defineMetric({ name: 'order_amount', type: 'SIMPLE', measure: 'order.amount', description: 'd', owner }),
    defineMetric({ name: 'orders', type: 'SIMPLE', measure: 'order.orders', description: 'd', owner }),
    defineMetric({ name: 'quantity', type: 'SIMPLE', measure: 'order_item.quantity', description: 'd', owner }),
    defineMetric({ name: 'visits', type: 'SIMPLE', measure: 'visit.visits', description: 'd', owner }),
    defineMetric({ name: 'customers', type: 'SIMPLE', measure: 'customer.customers', description: 'd', owner }),
    defineMetric({ name: 'paid_amount', type: 'SIMPLE', measure: 'order.paid_amount', description: 'd', owner }),
    defineMetric({ name: 'cancelled_orders', type: 'SIMPLE', measure: 'order.cancelled_orders', description: 'd', owner }),
    defineMetric({ name: 'cancelled_customers', type: 'SIMPLE', measure: 'order.cancelled_customers', description: 'd', owner }),
    defineMetric({ name: 'amount_per_visit', type: 'RATIO', numerator: 'order_amount', denominator: 'visits', description: 'd', owner }),
  ],
});

await describeEachEngine('semantic traps on %s', (engine) => {
  let database: TestDatabase;
  let layer: SemanticLayer;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    layer = createSemanticLayer(catalog, { maxRows: 100 });
    for (const statement of [
      sql`CREATE SCHEMA trap`,
      sql`CREATE TABLE trap.customers (id text PRIMARY KEY, segment text, joined_at timestamptz)`,
      sql`CREATE TABLE trap.orders (id text PRIMARY KEY, customer_id text, amount numeric(18,2), status text, at timestamptz)`,
      sql`CREATE TABLE trap.order_items (id text PRIMARY KEY, order_id text, sku text, qty int, at timestamptz)`,
      sql`CREATE TABLE trap.visits (id text PRIMARY KEY, customer_id text, at timestamptz)`,
      sql`INSERT INTO trap.customers VALUES ('c1', 'gold', '2026-01-01'), ('c2', 'gold', '2026-01-01'), ('c3', NULL, '2026-01-01')`,
      // o1 has three items and o4 belongs to no known customer: both would distort a naive join.
      sql`INSERT INTO trap.orders VALUES ('o1', 'c1', 100.10, 'paid', '2026-01-05'), ('o2', 'c2', 50.00, 'paid', '2026-01-06'),
        ('o3', 'c3', 7.25, 'paid', '2026-01-07'), ('o4', 'c9', 1.00, 'paid', '2026-01-08')`,
      sql`INSERT INTO trap.order_items VALUES ('i1', 'o1', 'a', 1, '2026-01-05'), ('i2', 'o1', 'b', 2, '2026-01-05'), ('i3', 'o1', 'c', 3, '2026-01-05'), ('i4', 'o2', 'a', 4, '2026-01-06')`,
      sql`INSERT INTO trap.visits VALUES ('v1', 'c1', '2026-01-02'), ('v2', 'c1', '2026-01-03'), ('v3', 'c1', '2026-01-04'), ('v4', 'c2', '2026-01-04'), ('v5', 'c3', '2026-01-04')`,
    ])
      await statement.execute(database.db);
  });
  afterAll(() => database.dispose());

  const run = (query: Parameters<SemanticLayer['query']>[1]) => layer.query(database.db, query).then((r) => r.rows);

  it('does not multiply a measure by a one_to_many join (fan-out trap)', async () => {
    const rows = await run({ metrics: ['order_amount', 'quantity'], groupBy: [{ dimension: 'customer.segment' }] });
    expect(rows).toEqual([
      { customer__segment: 'gold', order_amount: 150.1, quantity: 10 },
      { customer__segment: null, order_amount: 8.25, quantity: null },
    ]);
  });

  it('aggregates two facts sharing a dimension separately (chasm trap)', async () => {
    const rows = await run({ metrics: ['order_amount', 'visits', 'amount_per_visit'], groupBy: [{ dimension: 'customer.segment' }] });
    expect(rows).toEqual([
      { customer__segment: 'gold', order_amount: 150.1, visits: 4, amount_per_visit: 37.525 },
      { customer__segment: null, order_amount: 8.25, visits: 1, amount_per_visit: 8.25 },
    ]);
  });

  it('keeps totals equal to the sum over any slice', async () => {
    const [total] = await run({ metrics: ['order_amount', 'orders'] });
    expect(total).toEqual({ order_amount: 158.35, orders: 4 });
  });

  // Measures of one model are read in one pass, each with its own filter: a measure none of
  // whose rows are in a group stays null there, as when it is aggregated on its own.
  it('keeps each measure to its own filter when they share a pass', async () => {
    const rows = await run({ metrics: ['paid_amount', 'cancelled_orders', 'cancelled_customers', 'orders'], groupBy: [{ dimension: 'customer.segment' }] });
    expect(rows).toEqual([
      { customer__segment: 'gold', paid_amount: 150.1, cancelled_orders: null, cancelled_customers: null, orders: 2 },
      { customer__segment: null, paid_amount: 8.25, cancelled_orders: null, cancelled_customers: null, orders: 2 },
    ]);
    expect(await run({ metrics: ['cancelled_orders', 'cancelled_customers'], groupBy: [{ dimension: 'customer.segment' }] })).toEqual([]);
    // Without group-bys, one row as each alone: a count of no rows is 0.
    expect(await run({ metrics: ['cancelled_orders'] })).toEqual([{ cancelled_orders: 0 }]);
    expect(await run({ metrics: ['cancelled_orders', 'cancelled_customers', 'paid_amount'] })).toEqual([
      { cancelled_orders: 0, cancelled_customers: 0, paid_amount: 158.35 },
    ]);
  });

  it('refuses a dimension reached only through a one_to_many join', async () => {
    await expect(run({ metrics: ['order_amount'], groupBy: [{ dimension: 'order_item.sku' }] })).rejects.toMatchObject({
      code: 'INVALID_QUERY',
      message: expect.stringContaining('one_to_many'),
    });
    await expect(run({ metrics: ['customers'], groupBy: [{ dimension: 'order.status' }] })).rejects.toBeInstanceOf(StrataError);
  });

  it('returns null for a ratio whose denominator is zero, and keeps money exact', async () => {
    const rows = await run({
      metrics: ['amount_per_visit'],
      groupBy: [{ dimension: 'customer.segment' }],
      where: { kind: 'compare', dimension: 'metric_time', op: 'LT', values: ['2026-01-04'] },
    });
    expect(rows).toEqual([{ customer__segment: 'gold', amount_per_visit: null }]);
  });

  it.each([["gold' OR '1'='1"], ["'; DROP TABLE trap.orders; --"], ['gold\\'], ['$$gold$$ OR TRUE']])('binds %s as a value, never as SQL', async (value) => {
    const plan = layer.plan({ metrics: ['order_amount'], where: { kind: 'compare', dimension: 'customer.segment', op: 'EQ', values: [value] } });
    expect(plan.compiled.sql).not.toContain(value);
    expect(plan.compiled.parameters).toContain(value);
    expect(await run({ metrics: ['order_amount'], where: { kind: 'compare', dimension: 'customer.segment', op: 'EQ', values: [value] } })).toEqual([
      { order_amount: null },
    ]);
    expect(await run({ metrics: ['orders'] })).toEqual([{ orders: 4 }]);
  });
});
