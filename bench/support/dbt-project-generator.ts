/**
 * A synthetic dbt semantic-layer project for the bench: a customer model and `facts` fact
 * models (each with a sum, a count, a distinct count and an approximate median), and ten
 * metrics per fact (simple, filtered, ratio, derived, cumulative, an offset), plus cross-fact
 * ratios up to `metrics`. Written twice: in dbt's authoring form (`dbt_project.yml`,
 * `ref()`, a `time_spine:` model) and as the `semantic_manifest.json` `dbt parse` would write.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

type Json = Record<string, unknown>;

interface Spec {
  readonly models: Json[];
  readonly metrics: Json[];
}

function spec(facts: number, metricCount: number): Spec {
  const models: Json[] = [
    {
      name: 'customers',
      table: 'dim_customers',
      entities: [{ name: 'customer', type: 'primary', expr: 'customer_id' }],
      dimensions: [
        { name: 'region', type: 'categorical' },
        { name: 'segment', type: 'categorical' },
      ],
      measures: [],
    },
  ];
  const metrics: Json[] = [];
  for (let i = 1; i <= facts; i++) {
    models.push({
      name: `fact_${i}`,
      table: `fct_${i}`,
      defaultTime: 'ts',
      entities: [
        { name: `fact_${i}`, type: 'primary', expr: 'id' },
        { name: 'customer', type: 'foreign', expr: 'customer_id' },
      ],
      dimensions: [
        { name: 'ts', type: 'time', grain: 'day' },
        { name: 'kind', type: 'categorical' },
      ],
      measures: [
        { name: `amount_${i}`, agg: 'sum', expr: 'amount' },
        { name: `rows_${i}`, agg: 'count', expr: '1' },
        { name: `users_${i}`, agg: 'count_distinct', expr: 'customer_id' },
        { name: `median_${i}`, agg: 'median', expr: 'amount', approximate: true },
      ],
    });
    const filter = `{{ Dimension('fact_${i}__kind') }} = 'a'`;
    metrics.push(
      { name: `amount_${i}`, type: 'simple', measure: `amount_${i}` },
      { name: `rows_${i}`, type: 'simple', measure: `rows_${i}`, fill: 0 },
      { name: `users_${i}`, type: 'simple', measure: `users_${i}` },
      { name: `median_${i}`, type: 'simple', measure: `median_${i}` },
      { name: `amount_a_${i}`, type: 'simple', measure: `amount_${i}`, filter },
      { name: `avg_${i}`, type: 'ratio', numerator: `amount_${i}`, denominator: `rows_${i}` },
      { name: `amount_not_a_${i}`, type: 'derived', expr: `amount_${i} - amount_a_${i}`, inputs: [{ name: `amount_${i}` }, { name: `amount_a_${i}` }] },
      { name: `amount_7d_${i}`, type: 'cumulative', measure: `amount_${i}`, window: '7 days' },
      { name: `amount_mtd_${i}`, type: 'cumulative', measure: `amount_${i}`, grainToDate: 'month' },
      {
        name: `amount_growth_${i}`,
        type: 'derived',
        expr: `amount_${i} / NULLIF(amount_prev_${i}, 0)`,
        inputs: [{ name: `amount_${i}` }, { name: `amount_${i}`, alias: `amount_prev_${i}`, offset: '1 month' }],
      },
    );
  }
  for (let k = 0; metrics.length < metricCount; k++) {
    const a = (k % facts) + 1;
    const b = ((k + 1) % facts) + 1;
    metrics.push({ name: `cross_${k}`, type: 'ratio', numerator: `amount_${a}`, denominator: `rows_${b}` });
  }
  return { models, metrics };
}

function authoringModel(m: Json): Json {
  const measures = (m.measures as Json[]).map((x) => ({
    name: x.name,
    agg: x.agg,
    expr: x.expr,
    ...(x.approximate ? { agg_params: { use_approximate_percentile: true } } : {}),
  }));
  return {
    name: m.name,
    model: `ref('${m.table}')`,
    ...(m.defaultTime ? { defaults: { agg_time_dimension: m.defaultTime } } : {}),
    entities: m.entities,
    dimensions: (m.dimensions as Json[]).map((d) => ({ name: d.name, type: d.type, ...(d.grain ? { type_params: { time_granularity: d.grain } } : {}) })),
    ...(measures.length ? { measures } : {}),
  };
}

function authoringMetric(m: Json): Json {
  const base = { name: m.name, label: String(m.name).replaceAll('_', ' '), type: m.type };
  switch (m.type) {
    case 'simple':
      return {
        ...base,
        type_params: { measure: m.fill !== undefined ? { name: m.measure, fill_nulls_with: m.fill } : m.measure },
        ...(m.filter ? { filter: m.filter } : {}),
      };
    case 'ratio':
      return { ...base, type_params: { numerator: m.numerator, denominator: m.denominator } };
    case 'derived':
      return {
        ...base,
        type_params: {
          expr: m.expr,
          metrics: (m.inputs as Json[]).map((i) => ({
            name: i.name,
            ...(i.alias ? { alias: i.alias } : {}),
            ...(i.offset ? { offset_window: i.offset } : {}),
          })),
        },
      };
    default:
      return {
        ...base,
        type_params: {
          measure: m.measure,
          cumulative_type_params: { ...(m.window ? { window: m.window } : {}), ...(m.grainToDate ? { grain_to_date: m.grainToDate } : {}) },
        },
      };
  }
}

const window = (text: unknown) => {
  if (typeof text !== 'string') return null;
  const [count, granularity] = text.split(' ');
  return { count: Number(count), granularity: String(granularity).replace(/s$/, '') };
};
const where = (text: unknown) => (typeof text === 'string' ? { where_filters: [{ where_sql_template: text }] } : null);
const measureInput = (name: unknown, fill: unknown = null, filter: unknown = null) => ({
  name,
  filter: where(filter),
  alias: null,
  join_to_timespine: false,
  fill_nulls_with: fill ?? null,
});
const metricInput = (i: Json) => ({ name: i.name, filter: null, alias: i.alias ?? null, offset_window: window(i.offset), offset_to_grain: null });

function manifestModel(m: Json, schema: string): Json {
  return {
    name: m.name,
    defaults: m.defaultTime ? { agg_time_dimension: m.defaultTime } : null,
    description: null,
    node_relation: { alias: m.table, schema_name: schema, database: 'bench', relation_name: `"bench"."${schema}"."${m.table}"` },
    primary_entity: null,
    entities: (m.entities as Json[]).map((e) => ({ ...e, description: null, role: null, metadata: null, label: null, config: { meta: {} } })),
    measures: (m.measures as Json[]).map((x) => ({
      name: x.name,
      agg: x.agg,
      description: null,
      create_metric: false,
      expr: x.expr,
      agg_params: x.approximate ? { percentile: null, use_discrete_percentile: false, use_approximate_percentile: true } : null,
      metadata: null,
      non_additive_dimension: null,
      agg_time_dimension: null,
      label: null,
      config: { meta: {} },
    })),
    dimensions: (m.dimensions as Json[]).map((d) => ({
      name: d.name,
      description: null,
      type: d.type,
      is_partition: false,
      type_params: d.grain ? { time_granularity: d.grain, validity_params: null } : null,
      expr: null,
      metadata: null,
      label: null,
      config: { meta: {} },
    })),
    label: null,
    metadata: null,
    config: { meta: {} },
  };
}

function manifestMetric(m: Json): Json {
  const params: Json = {
    measure: null,
    input_measures: [],
    numerator: null,
    denominator: null,
    expr: null,
    window: null,
    grain_to_date: null,
    metrics: [],
    conversion_type_params: null,
    cumulative_type_params: null,
  };
  if (m.type === 'simple') params.measure = measureInput(m.measure, m.fill);
  if (m.type === 'ratio') {
    params.numerator = metricInput({ name: m.numerator });
    params.denominator = metricInput({ name: m.denominator });
  }
  if (m.type === 'derived') {
    params.expr = m.expr;
    params.metrics = (m.inputs as Json[]).map(metricInput);
  }
  if (m.type === 'cumulative') {
    params.measure = measureInput(m.measure);
    params.cumulative_type_params = { window: window(m.window), grain_to_date: m.grainToDate ?? null, period_agg: 'first' };
  }
  return {
    name: m.name,
    description: '',
    type: m.type,
    type_params: params,
    filter: where(m.filter),
    metadata: null,
    label: String(m.name).replaceAll('_', ' '),
    config: { meta: {} },
    time_granularity: null,
  };
}

/** Writes the project in both forms under `dir`; returns the project folder and the manifest's path. */
export function writeBenchProject(dir: string, options: { facts: number; metrics: number; schema: string }): { project: string; manifest: string } {
  const { models, metrics } = spec(options.facts, options.metrics);
  const project = join(dir, 'project');
  mkdirSync(join(project, 'models/semantic'), { recursive: true });
  mkdirSync(join(project, 'target'), { recursive: true });
  writeFileSync(join(project, 'dbt_project.yml'), stringify({ name: 'bench', 'config-version': 2, 'model-paths': ['models'] }));
  for (const m of models) writeFileSync(join(project, `models/${m.table}.sql`), 'select 1\n');
  writeFileSync(join(project, 'models/all_days.sql'), 'select 1\n');
  writeFileSync(
    join(project, 'models/all_days.yml'),
    stringify({ models: [{ name: 'all_days', time_spine: { standard_granularity_column: 'date_day' }, columns: [{ name: 'date_day', granularity: 'day' }] }] }),
  );
  writeFileSync(join(project, 'models/semantic/models.yml'), stringify({ semantic_models: models.map(authoringModel) }));
  writeFileSync(join(project, 'models/semantic/metrics.yml'), stringify({ metrics: metrics.map(authoringMetric) }));
  const manifest = join(project, 'target/semantic_manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      semantic_models: models.map((m) => manifestModel(m, options.schema)),
      metrics: metrics.map(manifestMetric),
      project_configuration: {
        time_spine_table_configurations: [],
        metadata: null,
        time_spines: [
          {
            node_relation: { alias: 'all_days', schema_name: options.schema, database: 'bench', relation_name: `"bench"."${options.schema}"."all_days"` },
            primary_column: { name: 'date_day', time_granularity: 'day' },
            custom_granularities: [],
          },
        ],
      },
      saved_queries: [],
    }),
  );
  return { project, manifest };
}
