/** The catalog's table-backed models as dbt `semantic_models`: entities, dimensions and measures, with Strata meta. */
import type { Dimension, Measure, Model } from '../catalog/types.ts';
import { lower, type ExportContext, type SourceTable, type Yaml } from './export-context.ts';
import { entitiesOf } from './export-entities.ts';
import { SENSITIVITY_META, STORAGE_META, TIME_ZONE_META, TYPE_META } from './import-semantic-model.ts';

const AGG: Readonly<Record<Measure['aggregation'], string>> = {
  count: 'count',
  count_distinct: 'count_distinct',
  sum: 'sum',
  sum_boolean: 'sum_boolean',
  avg: 'average',
  min: 'min',
  max: 'max',
  median: 'median',
  percentile: 'percentile',
};

/** The semantic models, and the YAML comment to write before some of them (by index). */
export interface ExportedSemanticModels {
  readonly semanticModels: readonly Yaml[];
  readonly comments: ReadonlyMap<number, string>;
}

export function exportSemanticModels(ctx: ExportContext): ExportedSemanticModels {
  const semanticModels: Yaml[] = [];
  const zoned = new Map<string, string[]>();
  const comments = new Map<number, string>();
  for (const model of ctx.catalog.models) {
    const table = ctx.tables.get(model.name);
    if (!table) {
      ctx.note(`${model.name}: its source is a SQL query, not a table; write it as a dbt model and point a semantic model at it`);
      continue;
    }
    if (model.timeZone !== 'UTC') zoned.set(model.timeZone, [...(zoned.get(model.timeZone) ?? []), model.name]);
    const { semanticModel, comment } = semanticModelOf(ctx, model, table);
    semanticModels.push(semanticModel);
    if (comment) comments.set(semanticModels.length - 1, comment);
  }
  for (const [zone, names] of zoned)
    ctx.note(
      `reporting time zone: ${names.join(', ')} cut time grains in ${zone} (kept as meta ${TIME_ZONE_META}); MetricFlow has no reporting time zone and would cut days, weeks and months in UTC`,
    );
  return { semanticModels, comments };
}

function semanticModelOf(ctx: ExportContext, model: Model, table: SourceTable): { semanticModel: Yaml; comment: string | undefined } {
  const comments: string[] = [];
  if (model.timeZone !== 'UTC')
    comments.push(
      `Time grains are cut in ${model.timeZone} (meta ${TIME_ZONE_META}, read by Strata). MetricFlow has no reporting time zone: it cuts days in the warehouse's (UTC).`,
    );
  const measures = model.measures.map((m) => exportMeasure(ctx, model, m));
  if (model.measures.some((m) => m.filter)) {
    comments.push('Measures here filter their rows in Strata; MetricFlow measures cannot, so each metric reading one carries the filter on its input.');
    ctx.note(
      `${model.name}: measure filters (${model.measures
        .filter((m) => m.filter)
        .map((m) => m.name)
        .join(', ')}) written on every metric input that reads them`,
    );
  }
  const defaultTime = model.defaultTimeDimension ?? model.measures.find((m) => m.timeDimension)?.timeDimension;
  const semanticModel: Yaml = {
    name: model.name,
    description: model.description,
    model: `ref('${table.table}')`,
    config: { group: ctx.groupOf(model.owner), ...(model.timeZone !== 'UTC' ? { meta: { [TIME_ZONE_META]: model.timeZone } } : {}) },
    ...(defaultTime && model.measures.length ? { defaults: { agg_time_dimension: defaultTime } } : {}),
    entities: entitiesOf(ctx, model),
    dimensions: model.dimensions.map((d) => exportDimension(model, d)),
    ...(measures.length ? { measures } : {}),
  };
  return { semanticModel, comment: comments.length ? comments.join('\n') : undefined };
}

function exportDimension(model: Model, d: Dimension): Yaml {
  const meta: Yaml = d.sensitivity ? { [SENSITIVITY_META]: d.sensitivity } : {};
  if (d.type === 'number' || d.type === 'boolean') meta[TYPE_META] = d.type;
  if (d.type === 'time' && d.storage && d.storage !== 'timestamp') meta[STORAGE_META] = d.storage;
  if (d.subDaySensitivity) meta.strata_sub_day_sensitivity = d.subDaySensitivity;
  const validity = model.validity?.start === d.name ? { is_start: true } : model.validity?.end === d.name ? { is_end: true } : undefined;
  return {
    name: d.name,
    description: d.description,
    type: d.type === 'time' ? 'time' : 'categorical',
    ...(d.sql !== d.name ? { expr: d.sql } : {}),
    ...(d.isPartition ? { is_partition: true } : {}),
    ...(d.type === 'time' ? { type_params: { time_granularity: lower(d.grain ?? 'DAY'), ...(validity ? { validity_params: validity } : {}) } } : {}),
    ...(Object.keys(meta).length ? { config: { meta } } : {}),
  };
}

function exportMeasure(ctx: ExportContext, model: Model, m: Measure): Yaml {
  return {
    name: ctx.measureName(model.name, m.name),
    description: m.description,
    agg: AGG[m.aggregation],
    ...(m.sql === '*' ? { expr: '1' } : m.sql !== m.name ? { expr: m.sql } : {}),
    ...(m.percentile ? { agg_params: { percentile: m.percentile.fraction, use_discrete_percentile: m.percentile.discrete } } : {}),
    ...(m.timeDimension ? { agg_time_dimension: m.timeDimension } : {}),
    ...(m.nonAdditive
      ? {
          non_additive_dimension: {
            name: m.nonAdditive.dimension,
            window_choice: m.nonAdditive.window,
            ...(m.nonAdditive.groupings.length ? { window_groupings: m.nonAdditive.groupings } : {}),
          },
        }
      : {}),
    ...(m.sensitivity ? { config: { meta: { [SENSITIVITY_META]: m.sensitivity } } } : {}),
  };
}
