import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql, type RawBuilder } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { FILTER_VECTOR_TYPES, FILTER_VECTORS, RULE_VECTORS, VECTOR_TIME_ZONE, VECTOR_TYPES } from '../modeling/conditions/vectors.ts';
import { subjectOperand, tagSubject } from '../modeling/tags/tag-subject.ts';
import { buildCatalog } from '../modeling/catalog/build-catalog.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { defineModel } from '../modeling/dsl/define-model.ts';
import { ruleSql } from '../modeling/conditions/rule-sql.ts';
import { aggregateKey } from '../modeling/conditions/rule.ts';
import type { ValueType } from '../modeling/conditions/compare.ts';
import { filterSql } from '../modeling/sql/filter-sql.ts';

/**
 * A linguistic collation (case-insensitive first, as en_US.UTF-8 databases have by default)
 * given to every string column where the engine has one, so that a comparison which leaves
 * string order to the database's collation answers differently from the evaluator.
 */
const LINGUISTIC = 'en-US-x-icu';

const CASTS: Record<ValueType, string> = { string: 'text', number: 'numeric', boolean: 'boolean', time: 'timestamptz' };

function columnsOf(collation: string | undefined) {
  return (value: unknown, type: ValueType) => {
    const cast = sql`CAST(${value === null || value === undefined ? null : String(value)} AS ${sql.raw(CASTS[type])})`;
    return type === 'string' && collation ? sql`${cast} COLLATE ${sql.id(collation)}` : cast;
  };
}

type Bound = ReturnType<typeof columnsOf>;

/** The subject the rule vectors' dimensions belong to, as tags and audiences read them (types, time zone). */
const SUBJECT = tagSubject(
  indexCatalog(
    buildCatalog({
      models: [
        defineModel({
          name: 'customer',
          description: 'c',
          owner: 'test',
          table: 'vec.customers',
          primaryKey: 'id',
          timeZone: VECTOR_TIME_ZONE,
          dimensions: Object.fromEntries(
            Object.entries(VECTOR_TYPES.dimensions).map(([ref, type]) => [ref.slice('customer.'.length), { type, description: ref }]),
          ),
          measures: {},
        }),
      ],
      metrics: [],
    }),
  ),
  'customer',
);

/** One rule vector's features as a one-row relation, its rule compiled against it. */
function ruleVectorSql(vector: (typeof RULE_VECTORS)[number], bound: Bound): RawBuilder<{ truth: boolean | null }> {
  const dims = Object.entries(VECTOR_TYPES.dimensions);
  const tags = Object.entries(VECTOR_TYPES.tags);
  const aggregates = Object.keys(vector.features.aggregates);
  const columns = [
    ...dims.map(([ref, type], i) => sql`${bound(vector.features.dimensions[ref], type)} AS ${sql.id(`d${i}`)}`),
    ...tags.map(([key, type], i) => sql`${bound(vector.features.tags[key], type)} AS ${sql.id(`t${i}`)}`),
    ...aggregates.map((key, i) => sql`${bound(vector.features.aggregates[key], 'number')} AS ${sql.id(`a${i}`)}`),
  ];
  const predicate = ruleSql(vector.rule, {
    dimension: (ref) => subjectOperand(SUBJECT, ref, 'rule', sql.ref(`prev.d${dims.findIndex(([r]) => r === ref)}`)),
    tag: (key) => ({ expr: sql.ref(`prev.t${tags.findIndex(([k]) => k === key)}`), type: VECTOR_TYPES.tags[key] ?? 'string' }),
    aggregate: (ref) => sql.ref(`prev.a${aggregates.indexOf(aggregateKey(ref))}`),
  });
  return sql<{ truth: boolean | null }>`SELECT (${predicate}) AS truth FROM (SELECT ${sql.join(columns)}) AS prev`;
}

/** One metric filter vector's features as a one-row relation, compiled as a metric query compiles its `where`. */
function filterVectorSql(vector: (typeof FILTER_VECTORS)[number], bound: Bound): RawBuilder<{ truth: boolean | null }> {
  const dims = Object.entries(FILTER_VECTOR_TYPES);
  const metrics = Object.keys(vector.features.metrics);
  const columns = [
    ...dims.map(([ref, type], i) => sql`${bound(vector.features.dimensions[ref], type)} AS ${sql.id(`d${i}`)}`),
    ...metrics.map((name, i) => sql`${bound(vector.features.metrics[name], 'number')} AS ${sql.id(`m${i}`)}`),
  ];
  const predicate = filterSql(vector.filter, {
    column: (ref) => {
      const expr = sql.ref(`prev.d${dims.findIndex(([r]) => r === ref)}`);
      return { expr, type: FILTER_VECTOR_TYPES[ref] ?? 'string', time: { expr, storage: 'timestamptz', timeZone: VECTOR_TIME_ZONE } };
    },
    metricValue: (leaf) => sql.ref(`prev.m${metrics.indexOf(leaf.metric)}`),
  });
  return sql<{ truth: boolean | null }>`SELECT (${predicate}) AS truth FROM (SELECT ${sql.join(columns)}) AS prev`;
}

await describeEachEngine('condition vectors compiled to SQL on %s', (engine) => {
  let database: TestDatabase;
  let bound: Bound;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
    const { rows } = await sql<{ found: number }>`SELECT count(*)::int AS found FROM pg_collation WHERE collname = ${LINGUISTIC}`.execute(database.db);
    bound = columnsOf(rows[0]?.found ? LINGUISTIC : undefined);
  });
  afterAll(() => database.dispose());

  it.each(RULE_VECTORS.map((v) => [v.name, v] as const))('rule: %s', async (_name, vector) => {
    const { rows } = await ruleVectorSql(vector, bound).execute(database.db);
    expect(rows[0]?.truth ?? null).toBe(vector.expected);
  });

  it.each(FILTER_VECTORS.map((v) => [v.name, v] as const))('metric filter: %s', async (_name, vector) => {
    const { rows } = await filterVectorSql(vector, bound).execute(database.db);
    expect(rows[0]?.truth ?? null).toBe(vector.expected);
  });

  it('holds every rule vector without an aggregate as a metric filter', () => {
    const withoutAggregates = RULE_VECTORS.filter((v) => !JSON.stringify(v.rule).includes('"aggregate"'));
    expect(FILTER_VECTORS.filter((v) => RULE_VECTORS.some((r) => r.name === v.name)).map((v) => v.name)).toEqual(withoutAggregates.map((v) => v.name));
  });
});
