import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { defineModel } from '../modeling/dsl/define-model.ts';
import { defineMetric } from '../modeling/dsl/define-metric.ts';
import { buildCatalog } from '../modeling/catalog/build-catalog.ts';
import type { Filter } from '../modeling/catalog/types.ts';
import { createSemanticLayer, type SemanticLayer } from '../modeling/semantic-layer.ts';
import { FILTER_VECTOR_TYPES, FILTER_VECTORS, VECTOR_TIME_ZONE } from '../modeling/conditions/vectors.ts';
import { evaluateCondition } from '../modeling/conditions/evaluate-condition.ts';
import { leaves } from '../modeling/catalog/condition.ts';

/**
 * The shared condition vectors as `where` of real metric queries: one customer row per
 * vector, and each vector's filter (and its negation) run over every row. The rows a query
 * counts must be exactly those the in-memory evaluator finds true (false for the negation),
 * the vector's own row included. Tags are plain columns here (`customer.tag.x` becomes
 * `customer.tag_x`); `Metric(...)` leaves are covered by test/condition-vectors.test.ts.
 */
const LINGUISTIC = 'en-US-x-icu';
const owner = 'test';
const column = (ref: string) => ref.replace(/^customer\.(tag\.)?/, (_m, tag: string | undefined) => (tag ? 'tag_' : '')).replace(/\./g, '_');
const vectors = FILTER_VECTORS.filter((v) => leaves(v.filter).every((l) => l.kind === 'compare'));
const columns = Object.entries(FILTER_VECTOR_TYPES).map(([ref, type]) => ({ ref, name: column(ref), type }));

const catalog = buildCatalog({
  models: [
    defineModel({
      name: 'customer',
      description: 'c',
      owner,
      table: 'vec.customers',
      primaryKey: 'id',
      defaultTimeDimension: 'joined_at',
      timeZone: VECTOR_TIME_ZONE,
      dimensions: {
        id: { type: 'string', description: 'i' },
        joined_at: { type: 'time', description: 't' },
        ...Object.fromEntries(columns.map((c) => [c.name, { type: c.type, description: c.ref }])),
      },
      measures: { customers: { aggregation: 'count', description: 'n' } },
    }),
  ],
  metrics: [defineMetric({ name: 'customers', type: 'SIMPLE', measure: 'customer.customers', description: 'd', owner })],
});

/** The vector's filter over this model's columns. */
function asWhere(filter: Filter): Filter {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return { kind: filter.kind, filters: filter.filters.map(asWhere) };
    case 'not':
      return { kind: 'not', filter: asWhere(filter.filter) };
    case 'compare':
      return { ...filter, dimension: `customer.${column(filter.dimension)}` };
    case 'metric':
      throw new Error('vector invariant: metric leaves are not run here');
  }
}

await describeEachEngine('condition vectors as metric filters on %s', (engine) => {
  let database: TestDatabase;
  let layer: SemanticLayer;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
    layer = createSemanticLayer(catalog, { maxRows: 1000 });
    const { rows } = await sql<{ found: number }>`SELECT count(*)::int AS found FROM pg_collation WHERE collname = ${LINGUISTIC}`.execute(database.db);
    const collate = rows[0]?.found ? sql` COLLATE ${sql.id(LINGUISTIC)}` : sql``;
    const SQL_TYPES = { string: sql`text`, number: sql`numeric`, boolean: sql`boolean`, time: sql`timestamptz` };
    const definitions = columns.map((c) => sql`${sql.id(c.name)} ${SQL_TYPES[c.type]}${c.type === 'string' ? collate : sql``}`);
    await sql`CREATE SCHEMA vec`.execute(database.db);
    await sql`CREATE TABLE vec.customers (id text PRIMARY KEY, joined_at timestamptz, ${sql.join(definitions)})`.execute(database.db);
    for (const [i, v] of vectors.entries()) {
      const values = columns.map((c) => {
        const value = v.features.dimensions[c.ref];
        return value === null || value === undefined ? sql`NULL` : sql`${String(value)}`;
      });
      await sql`INSERT INTO vec.customers VALUES (${`v${i}`}, '2026-01-01', ${sql.join(values)})`.execute(database.db);
    }
  });
  afterAll(() => database.dispose());

  const selected = async (where: Filter): Promise<string[]> => {
    const { rows } = await layer.query(database.db, { metrics: ['customers'], groupBy: [{ dimension: 'customer.id' }], where });
    return rows.map((r) => String(r.customer__id)).sort();
  };

  it.each(vectors.map((v, i) => [v.name, v, i] as const))('%s', async (_name, vector, i) => {
    const truths = vectors.map((row) =>
      evaluateCondition(vector.filter, (leaf) => {
        if (leaf.kind !== 'compare') throw new Error('vector invariant: dimension leaves only');
        return { type: FILTER_VECTOR_TYPES[leaf.dimension] ?? 'string', value: row.features.dimensions[leaf.dimension], timeZone: VECTOR_TIME_ZONE };
      }),
    );
    expect(truths[i]).toBe(vector.expected);
    const ids = (want: boolean) => truths.flatMap((t, j) => (t === want ? [`v${j}`] : [])).sort();
    const where = asWhere(vector.filter);
    expect(await selected(where)).toEqual(ids(true));
    expect(await selected({ kind: 'not', filter: where })).toEqual(ids(false));
  });
});
