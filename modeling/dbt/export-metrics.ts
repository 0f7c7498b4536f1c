/** The catalog's metrics as dbt `metrics`: each type's `type_params`, a metric's filter, what cannot be written skipped with a note. */
import type { Metric } from '../catalog/types.ts';
import { Inexpressible, lower, type ExportContext, type Yaml } from './export-context.ts';
import { conversionParts, type MetricTypeParts } from './export-conversion-metric.ts';
import { filterText } from './export-filter-text.ts';
import { baseModelOf, inputBaseModel, measureInput, metricInput, windowText } from './export-metric-inputs.ts';

/** The metrics, and the YAML comment to write before some of them (by index). */
export interface ExportedMetrics {
  readonly metrics: readonly Yaml[];
  readonly comments: ReadonlyMap<number, string>;
}

/** What the metrics need of the project beyond themselves: a time spine, once a cumulative or offset metric gets that far. */
interface Needs {
  spine: boolean;
}

export function exportMetrics(ctx: ExportContext): ExportedMetrics {
  const metrics: Yaml[] = [];
  const comments = new Map<number, string>();
  const needs: Needs = { spine: false };
  for (const metric of ctx.catalog.metrics) {
    try {
      const { yaml, comment, notes } = exportMetric(ctx, metric, needs);
      metrics.push(yaml);
      if (comment) comments.set(metrics.length - 1, comment);
      for (const text of notes) ctx.note(text);
    } catch (error) {
      if (!(error instanceof Inexpressible)) throw error;
      ctx.note(`${metric.name}: not exported: ${error.message}`);
    }
  }
  if (needs.spine && !ctx.catalog.timeSpines?.length)
    ctx.note(
      'time spine: MetricFlow needs a time spine model (a `time_spine:` model configuration) for cumulative metrics and offsets; Strata computes them without one, so the project declares none: add one before running it in MetricFlow',
    );
  return { metrics, comments };
}

function exportMetric(ctx: ExportContext, metric: Metric, needs: Needs): { yaml: Yaml; comment: string | undefined; notes: readonly string[] } {
  const base = baseModelOf(ctx, metric);
  const filter = metric.filter ? (base ? filterText(ctx, base, metric.filter) : undefined) : undefined;
  if (metric.filter && !filter) throw new Inexpressible('its filter names dimensions of no single model');
  const { typeParams, meta, comments = [], notes = [] } = typeParts(ctx, metric, needs);
  const comment = [...comments, ...(metric.status !== 'PUBLISHED' ? [`Status in Strata: ${metric.status}.`] : [])].join('\n');
  const yaml: Yaml = {
    name: metric.name,
    ...(metric.label ? { label: metric.label } : {}),
    description: metric.description,
    type: metric.type.toLowerCase(),
    type_params: typeParams,
    ...(filter ? { filter } : {}),
    ...(metric.defaultGrain ? { time_granularity: lower(metric.defaultGrain) } : {}),
    config: { group: ctx.groupOf(metric.owner), ...(meta ? { meta } : {}) },
  };
  return { yaml, comment: comment || undefined, notes };
}

function typeParts(ctx: ExportContext, metric: Metric, needs: Needs): MetricTypeParts {
  switch (metric.type) {
    case 'SIMPLE':
      return { typeParams: { measure: measureInput(ctx, metric.measure, measureOptions(metric)) } };
    case 'CUMULATIVE':
      needs.spine = true;
      return {
        typeParams: {
          measure: measureInput(ctx, metric.measure, measureOptions(metric)),
          cumulative_type_params: {
            ...(metric.window ? { window: windowText(metric.window) } : {}),
            ...(metric.grainToDate ? { grain_to_date: lower(metric.grainToDate) } : {}),
            ...(metric.periodAgg ? { period_agg: metric.periodAgg } : {}),
          },
        },
      };
    case 'RATIO':
      if (metric.fillNullsWith !== undefined) throw new Inexpressible('fill_nulls_with on a ratio metric has no place in MetricFlow');
      return {
        typeParams: {
          numerator: metricInput(ctx, metric.numerator, inputBaseModel(ctx, metric.numerator)),
          denominator: metricInput(ctx, metric.denominator, inputBaseModel(ctx, metric.denominator)),
        },
      };
    case 'DERIVED':
      if (metric.fillNullsWith !== undefined) throw new Inexpressible('fill_nulls_with on a derived metric has no place in MetricFlow');
      if (metric.inputs.some((i) => i.offsetWindow || i.offsetToGrain)) needs.spine = true;
      return { typeParams: { expr: metric.expressionText, metrics: metric.inputs.map((i) => metricInput(ctx, i, inputBaseModel(ctx, i))) } };
    case 'CONVERSION':
      return conversionParts(ctx, metric);
  }
}

/** What a simple or cumulative metric sets on its measure input: `fill_nulls_with`, `join_to_timespine`. */
function measureOptions(metric: Extract<Metric, { type: 'SIMPLE' | 'CUMULATIVE' }>): Yaml {
  return {
    ...(metric.fillNullsWith !== undefined ? { fill_nulls_with: metric.fillNullsWith } : {}),
    ...(metric.joinToTimeSpine ? { join_to_timespine: true } : {}),
  };
}
