import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { importDbtProject } from './import-dbt-project.ts';
import { CatalogValidationError } from '../catalog/validation-error.ts';
import { createSemanticLayer } from '../semantic-layer.ts';

const dirs: string[] = [];
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-dbt-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ORDERS = `
semantic_models:
  - name: orders
    node_relation: { schema_name: $source_schema, alias: fct_orders }
    defaults: { agg_time_dimension: ordered_at }
    entities:
      - { name: order, type: primary, expr: order_id }
      - { name: customer, type: foreign, expr: customer_id }
    dimensions:
      - { name: ordered_at, type: time, type_params: { time_granularity: day } }
      - { name: status, type: categorical }
    measures:
      - { name: revenue, agg: sum, expr: amount }
      - { name: p90, agg: percentile, expr: amount, agg_params: { percentile: 0.9, use_approximate_percentile: true } }
  - name: customers
    node_relation: { schema_name: $source_schema, alias: dim_customers }
    entities: [{ name: customer, type: primary, expr: customer_id }]
    dimensions: [{ name: region, type: categorical }]
`;

function problemsOf(dir: string) {
  try {
    importDbtProject(dir, { schema: 'analytics' });
  } catch (error) {
    if (error instanceof CatalogValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('importing a dbt semantic-layer project', () => {
  it('builds models joined along entities and metrics queried with MetricFlow names', () => {
    const dir = project({
      'models.yml': ORDERS,
      'metrics.yml': `metrics:\n  - name: revenue\n    type: simple\n    type_params: { measure: revenue }\n    filter: "{{ Dimension('customer__region') }} = 'EU'"\n`,
    });
    const { catalog, refused, notes } = importDbtProject(dir, { schema: 'analytics' });
    expect(catalog.models.find((m) => m.name === 'orders')?.joins).toMatchObject([
      { model: 'customers', cardinality: 'many_to_one', entity: 'customer', on: [['customer_id', 'customer_id']] },
    ]);
    expect(refused).toEqual([]);
    expect(notes).toEqual([
      expect.objectContaining({ code: 'EXACT_PERCENTILE', path: 'models.yml: semantic_models[0].measures[1].agg_params.use_approximate_percentile' }),
    ]);
    const p90 = catalog.models.find((m) => m.name === 'orders')?.measures.find((m) => m.name === 'p90');
    expect(p90).toMatchObject({ aggregation: 'percentile', percentile: { fraction: 0.9, discrete: false } });
    expect(p90?.description).toContain('exact percentile');
    const { compiled } = createSemanticLayer(catalog, { maxRows: 10 }).plan({
      metrics: ['revenue'],
      groupBy: [{ dimension: 'customer__region' }, { dimension: 'metric_time', grain: 'MONTH' }],
    });
    expect(compiled.sql).toContain('"analytics"."dim_customers"');
    expect(compiled.sql).toContain('AS "customer__region"');
    expect(compiled.parameters).toContain('EU');
  });

  it('reports every problem with its file and path, at once', () => {
    const dir = project({
      'models.yml': ORDERS,
      'metrics.yml': `metrics:
  - name: bad_filter
    type: simple
    type_params: { measure: revenue }
    filter: "{{ Dimension('customer__region') }} = 'EU'; DROP TABLE x"
  - name: no_measure
    type: simple
    type_params: { measure: nothing }
  - name: odd
    type: exotic
`,
    });
    const problems = problemsOf(dir);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'metrics.yml: metrics[0].filter', code: 'INVALID_FILTER' }),
        expect.objectContaining({ path: 'metrics.yml: metrics[1].type_params.measure', code: 'UNKNOWN_MEASURE' }),
        expect.objectContaining({ path: 'metrics.yml: metrics[2].type', code: 'INVALID_TYPE' }),
      ]),
    );
  });

  it('refuses a metric whose filter names a dimension no join reaches, and the metrics reading it, and serves the rest', () => {
    const dir = project({
      'models.yml': ORDERS,
      'metrics.yml': `metrics:
  - name: r
    type: simple
    type_params: { measure: revenue }
    filter: "{{ Dimension('customer__nowhere') }} = 1"
  - name: r_doubled
    type: derived
    type_params: { expr: r * 2, metrics: [r] }
  - name: eu_revenue
    type: simple
    type_params: { measure: revenue }
    filter: "{{ Dimension('customer__region') }} = 'EU'"
`,
    });
    const { catalog, refused } = importDbtProject(dir, { schema: 'analytics' });
    expect(refused).toEqual([
      expect.objectContaining({ code: 'UNKNOWN_MEMBER', path: 'metrics.r.filter', message: expect.stringContaining('the metric is not served') }),
      expect.objectContaining({ code: 'REFUSED', path: 'metrics.r_doubled', message: "reads refused metric 'r'" }),
    ]);
    expect(catalog.metrics.map((m) => m.name).sort()).toEqual(['eu_revenue']);
  });

  it('still refuses the whole project for a problem outside the metrics', () => {
    const dir = project({
      'models.yml': `${ORDERS}    measures:\n      - { name: revenue, agg: sum, expr: amount }\n`,
    });
    expect(problemsOf(dir)).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'DUPLICATE_NAME' })]));
  });

  it('reports YAML syntax errors with the file', () => {
    const dir = project({ 'broken.yml': 'semantic_models:\n  - name: [unclosed\n' });
    expect(problemsOf(dir)[0]).toMatchObject({ code: 'YAML_SYNTAX', path: expect.stringContaining('broken.yml') });
  });

  it('reads sensitivity classes from meta and refuses personal members to a caller cleared below them', async () => {
    const dir = project({
      'models.yml': `
semantic_models:
  - name: orders
    node_relation: { schema_name: $source_schema, alias: fct_orders }
    defaults: { agg_time_dimension: ordered_at }
    entities:
      - { name: order, type: primary, expr: order_id, config: { meta: { strata_sensitivity: personal } } }
    dimensions:
      - { name: ordered_at, type: time, type_params: { time_granularity: second }, meta: { strata_sub_day_sensitivity: personal } }
      - { name: email, type: categorical, config: { meta: { strata_sensitivity: restricted } } }
      - { name: status, type: categorical }
    measures:
      - { name: revenue, agg: sum, expr: amount, create_metric: true }
  - name: odd
    node_relation: { schema_name: $source_schema, alias: odd }
    entities: [{ name: thing, type: primary, expr: id }]
    dimensions: [{ name: colour, type: categorical, meta: { strata_sensitivity: secret } }]
`,
    });
    expect(problemsOf(dir)).toEqual([expect.objectContaining({ code: 'INVALID_SENSITIVITY' })]);
    const good = project({ 'models.yml': (await import('node:fs')).readFileSync(join(dir, 'models.yml'), 'utf8').split('  - name: odd')[0] as string });
    const { catalog } = importDbtProject(good, { schema: 'analytics' });
    const orders = catalog.models.find((m) => m.name === 'orders');
    expect(orders?.dimensions.find((d) => d.name === 'email')?.sensitivity).toBe('restricted');
    expect(orders?.dimensions.find((d) => d.name === 'ordered_at')?.subDaySensitivity).toBe('personal');
    expect(orders?.entities?.find((e) => e.name === 'order')?.sensitivity).toBe('personal');
    const layer = createSemanticLayer(catalog, { maxRows: 10 });
    const fakeDb = { executeQuery: async () => ({ rows: [] }) } as never;
    const asInternal = (groupBy: { dimension: string; grain?: 'HOUR' | 'DAY' }[]) =>
      layer.query(fakeDb, { metrics: ['revenue'], groupBy }, { clearance: 'internal' });
    await expect(asInternal([{ dimension: 'order__email' }])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(asInternal([{ dimension: 'order' }])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(asInternal([{ dimension: 'metric_time', grain: 'HOUR' }])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(asInternal([{ dimension: 'order__status' }, { dimension: 'metric_time', grain: 'DAY' }])).resolves.toMatchObject({ rows: [] });
    await expect(layer.query(fakeDb, { metrics: ['revenue'], groupBy: [{ dimension: 'order__email' }] }, { clearance: 'restricted' })).resolves.toMatchObject({
      rows: [],
    });
  });

  it('reads a folder of authoring YAML without dbt_project.yml: ref() to the schema and model name, said in the notes', () => {
    const dir = project({
      'models/orders.yml': `
semantic_models:
  - name: orders
    model: ref('orders')
    defaults: { agg_time_dimension: ordered_at }
    entities: [{ name: order, type: primary, expr: order_id, role: buyer }]
    dimensions: [{ name: ordered_at, type: time, type_params: { time_granularity: day } }]
    measures: [{ name: revenue, agg: sum, expr: amount, create_metric: true }]
  - name: old_orders
    model: "{{ ref('shop', 'old_orders', v=2) }}"
    config: { enabled: false }
`,
    });
    const { catalog, notes } = importDbtProject(dir, { schema: 'analytics' });
    expect(catalog.models.map((m) => [m.name, m.source])).toEqual([['orders', { table: 'analytics.orders' }]]);
    expect(notes.map((n) => [n.code, n.path])).toEqual([
      ['DISABLED', 'models/orders.yml: semantic_models[1]'],
      ['NOT_READ', 'models/orders.yml: semantic_models[0].entities[0].role'],
      ['ASSUMED_RELATION', 'models/orders.yml: semantic_models[0].model'],
    ]);
  });

  it('resolves +schema and +alias of dbt_project.yml by folder and model, a versioned ref, and the legacy metricflow_time_spine', () => {
    const dir = project({
      'dbt_project.yml': `name: shop
model-paths: [src]
models:
  shop:
    +schema: base
    marts:
      +schema: marts
      orders:
        +alias: fct_orders
semantic-models:
  shop:
    +meta: { owner: data-team, strata_sensitivity: restricted }
metrics:
  shop:
    old_revenue:
      +enabled: false
`,
      'src/marts/_models.yml': 'models:\n  - name: orders\n    semantic_model: { enabled: true }\n',
      'src/marts/orders.sql': 'select 1',
      'src/marts/customers_v2.sql': "{{ config(alias='dim_customers') }} select 1",
      'src/metricflow_time_spine.sql': 'select 1',
      'src/semantic.yml': `
semantic_models:
  - name: orders
    model: ref('orders')
    entities: [{ name: customer, type: foreign, expr: customer_id }]
    dimensions: [{ name: ordered_at, type: time, type_params: { time_granularity: day } }]
    defaults: { agg_time_dimension: ordered_at }
    measures: [{ name: revenue, agg: sum, expr: amount }]
  - name: customers
    model: ref('shop', 'customers', version=2)
    entities: [{ name: customer, type: primary, expr: customer_id }]
metrics:
  - { name: revenue, type: simple, type_params: { measure: revenue } }
  - { name: old_revenue, type: simple, type_params: { measure: revenue } }
`,
    });
    const { catalog, notes } = importDbtProject(dir, { schema: 'analytics' });
    expect(catalog.models.map((m) => 'table' in m.source && m.source.table)).toEqual(['marts.fct_orders', 'marts.dim_customers']);
    expect(catalog.timeSpines).toEqual([{ table: 'base.metricflow_time_spine', column: 'date_day', grain: 'DAY', customGranularities: [] }]);
    // dbt_project.yml's semantic-models: and metrics: configurations reach the definitions.
    expect(catalog.models.map((m) => [m.owner, m.entities?.[0]?.sensitivity])).toEqual([
      ['data-team', 'restricted'],
      ['data-team', 'restricted'],
    ]);
    expect(catalog.metrics.map((m) => m.name)).toEqual(['revenue']);
    expect(notes.map((n) => [n.code, n.path])).toEqual([
      ['NOT_READ', 'src/marts/_models.yml: models[0].semantic_model'],
      ['DISABLED', 'src/semantic.yml: metrics[1]'],
    ]);
  });

  it('reports unknown groups, unreadable refs, time spine columns without a granularity and a broken manifest, and never throws anything else', () => {
    const dir = project({
      'dbt_project.yml': 'name: shop\n',
      'models/spine.yml': 'models:\n  - name: days\n    time_spine: { standard_granularity_column: d }\n    columns: [{ name: d }]\n',
      'models/days.sql': 'select 1',
      'models/semantic.yml': `
groups: [{ name: finance, owner: { name: Books } }]
semantic_models:
  - name: orders
    model: ref('days')
    config: { group: sales }
  - name: bad
    model: orders
metrics: [1, null, { name: x }]
semantic_model: 7
`,
    });
    expect(problemsOf(dir).map((p) => [p.code, p.path])).toEqual(
      expect.arrayContaining([
        ['INVALID_REF', 'models/semantic.yml: semantic_models[1].model'],
        ['UNKNOWN_GROUP', 'models/semantic.yml: semantic_models[0].config.group'],
        ['INVALID_GRAIN', 'models/spine.yml: models[0].time_spine.standard_granularity_column'],
        ['MISSING_FIELD', 'models/semantic.yml: metrics[2].type'],
      ]),
    );
    const json = project({ 'semantic_manifest.json': '{ "semantic_models": [' });
    expect(problemsOf(join(json, 'semantic_manifest.json'))).toEqual([expect.objectContaining({ code: 'JSON_SYNTAX', path: 'semantic_manifest.json' })]);
  });
});
