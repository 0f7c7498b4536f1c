import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql, type RawBuilder } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { RULE_VECTORS, VECTOR_TYPES } from '../modeling/conditions/vectors.ts';
import { ruleSql } from '../modeling/conditions/rule-sql.ts';
import { aggregateKey } from '../modeling/conditions/rule.ts';
import type { ValueType } from '../modeling/conditions/compare.ts';

const CASTS: Record<ValueType, string> = { string: 'text', number: 'numeric', boolean: 'boolean', time: 'timestamptz' };
const bound = (value: unknown, type: ValueType) => sql`CAST(${value === null || value === undefined ? null : String(value)} AS ${sql.raw(CASTS[type])})`;

/** One vector's features as a one-row relation, its rule compiled against it. */
function vectorSql(vector: (typeof RULE_VECTORS)[number]): RawBuilder<{ truth: boolean | null }> {
  const dims = Object.entries(VECTOR_TYPES.dimensions);
  const tags = Object.entries(VECTOR_TYPES.tags);
  const aggregates = Object.keys(vector.features.aggregates);
  const columns = [
    ...dims.map(([ref, type], i) => sql`${bound(vector.features.dimensions[ref], type)} AS ${sql.id(`d${i}`)}`),
    ...tags.map(([key, type], i) => sql`${bound(vector.features.tags[key], type)} AS ${sql.id(`t${i}`)}`),
    ...aggregates.map((key, i) => sql`${bound(vector.features.aggregates[key], 'number')} AS ${sql.id(`a${i}`)}`),
  ];
  const predicate = ruleSql(vector.rule, {
    dimension: (ref) => ({ expr: sql.ref(`prev.d${dims.findIndex(([r]) => r === ref)}`), type: VECTOR_TYPES.dimensions[ref] ?? 'string' }),
    tag: (key) => ({ expr: sql.ref(`prev.t${tags.findIndex(([k]) => k === key)}`), type: VECTOR_TYPES.tags[key] ?? 'string' }),
    aggregate: (ref) => sql.ref(`prev.a${aggregates.indexOf(aggregateKey(ref))}`),
  });
  return sql<{ truth: boolean | null }>`SELECT (${predicate}) AS truth FROM (SELECT ${sql.join(columns)}) AS prev`;
}

await describeEachEngine('rule vectors compiled to SQL on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
  });
  afterAll(() => database.dispose());

  it.each(RULE_VECTORS.map((v) => [v.name, v] as const))('%s', async (_name, vector) => {
    const { rows } = await vectorSql(vector).execute(database.db);
    expect(rows[0]?.truth ?? null).toBe(vector.expected);
  });
});
