import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDbtProject } from './import-dbt-project.ts';
import { CatalogValidationError } from '../catalog/validation-error.ts';

const dirs: string[] = [];
function project(models: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-dbt-scd-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'models.yml'), models);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function problemsOf(models: string) {
  try {
    importDbtProject(project(models), { schema: 'analytics' });
  } catch (error) {
    if (error instanceof CatalogValidationError) return error.problems;
    throw error;
  }
  return [];
}

const ORDERS = `
  - name: orders
    node_relation: { schema_name: $source_schema, alias: fct_orders }
    defaults: { agg_time_dimension: ordered_at }
    entities:
      - { name: order, type: primary, expr: order_id }
      - { name: store, type: foreign, expr: store_id }
      - { name: clerk, type: foreign, expr: clerk_id }
    dimensions: [{ name: ordered_at, type: time, type_params: { time_granularity: day } }]
    measures: [{ name: revenue, agg: sum, expr: amount }]`;

/** A versioned model: `validity` gives its window dimensions' params, `extra` more YAML lines. */
const versioned = (name: string, entity: string, validity = ['{ is_start: true }', '{ is_end: true }'], extra = '') => `
  - name: ${name}
    node_relation: { schema_name: $source_schema, alias: ${name} }
    entities:
      - { name: ${entity}, type: natural, expr: ${entity}_id }${extra}
    dimensions:
      - { name: valid_from, type: time, type_params: { time_granularity: day, validity_params: ${validity[0]} } }
      - { name: valid_to, type: time, type_params: { time_granularity: day, validity_params: ${validity[1]} } }
      - { name: region, type: categorical }`;

describe('importing slowly changing dimensions (validity_params)', () => {
  it('reads the window and joins a foreign entity to the natural key of the versioned model', () => {
    const { catalog } = importDbtProject(project(`semantic_models:${ORDERS}${versioned('store_history', 'store')}`), { schema: 'analytics' });
    const history = catalog.models.find((m) => m.name === 'store_history');
    expect(history?.validity).toEqual({ start: 'valid_from', end: 'valid_to' });
    expect(catalog.models.find((m) => m.name === 'orders')?.joins).toMatchObject([
      { model: 'store_history', cardinality: 'many_to_one', entity: 'store', on: [['store_id', 'store_id']] },
    ]);
  });

  it('joins a natural key only to a model with a window, and never two versioned models', () => {
    const plainNatural = `
  - name: clerks
    node_relation: { schema_name: $source_schema, alias: dim_clerks }
    entities: [{ name: clerk, type: natural, expr: clerk_id }]
    dimensions: [{ name: team, type: categorical }]`;
    const storeVersions = versioned('store_history', 'store', undefined, '\n      - { name: clerk, type: foreign, expr: clerk_id }');
    const clerkVersions = versioned('clerk_history', 'clerk');
    const { catalog } = importDbtProject(project(`semantic_models:${ORDERS}${plainNatural}${storeVersions}${clerkVersions}`), { schema: 'analytics' });
    const joins = (name: string) => catalog.models.find((m) => m.name === name)?.joins.map((j) => j.model);
    // A natural key without a window names many rows: no join to 'clerks'.
    expect(joins('orders')).toEqual(['store_history', 'clerk_history']);
    // store_history -> clerk_history would join two windows; clerks' natural key joins nothing.
    expect(joins('store_history')).toEqual([]);
    expect(joins('clerks')).toEqual([]);
  });

  it.each([
    ['one dimension marked both start and end', versioned('h', 'store', ['{ is_start: true, is_end: true }', '{ is_start: false }']), 'exactly two'],
    ['two starts', versioned('h', 'store', ['{ is_start: true }', '{ is_start: true }']), 'one marked is_start'],
    ['no natural entity', versioned('h', 'store').replace('type: natural', 'type: foreign'), 'natural'],
    ['a primary entity', versioned('h', 'store', undefined, '\n      - { name: version, type: primary, expr: version_id }'), 'primary or unique'],
  ])('refuses a window with %s, with its code and path', (_name, model, message) => {
    const problems = problemsOf(`semantic_models:${ORDERS}${model}`);
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'INVALID_VALIDITY_WINDOW',
        path: expect.stringContaining('semantic_models[1]'),
        message: expect.stringContaining(message),
      }),
    ]);
  });

  it('refuses measures on a model with a window, as MetricFlow does', () => {
    const problems = problemsOf(
      `semantic_models:${ORDERS}${versioned('h', 'store')}\n    measures: [{ name: versions, agg: count, expr: store_id, agg_time_dimension: valid_from }]`,
    );
    expect(problems).toEqual([
      expect.objectContaining({ code: 'INVALID_VALIDITY_WINDOW', path: 'models.h.validity', message: expect.stringContaining('measures') }),
    ]);
  });
});
