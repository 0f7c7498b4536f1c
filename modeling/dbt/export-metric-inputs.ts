/** What dbt metrics read: measure and metric inputs (with the filters they carry), and the model a metric's filters are named from. */
import type { Duration, MeasureInput, Measure, Metric, MetricInput, Model } from '../catalog/types.ts';
import { Inexpressible, lower, type ExportContext, type Yaml } from './export-context.ts';
import { filterText } from './export-filter-text.ts';

/** A window or offset as MetricFlow writes it (`7 days`, `1 month`). */
export const windowText = (window: Duration) => `${window.count} ${lower(window.grain)}${window.count === 1 ? '' : 's'}`;

/** A measure input, carrying the measure's own filter (MetricFlow measures cannot filter). */
export function measureInput(ctx: ExportContext, ref: MeasureInput, extra: Yaml = {}): Yaml {
  const model = ctx.models.get(ref.model) as Model;
  const measure = model.measures.find((m) => m.name === ref.measure) as Measure;
  const filter = measure.filter ? filterText(ctx, model, measure.filter) : undefined;
  return { name: ctx.measureName(model.name, measure.name), ...(filter ? { filter } : {}), ...extra };
}

/** A metric input of a ratio or derived metric; its filter is named from `base`, the input's own base model. */
export function metricInput(ctx: ExportContext, i: MetricInput, base: Model | undefined): Yaml {
  const filter = i.filter ? (base ? filterText(ctx, base, i.filter) : undefined) : undefined;
  if (i.filter && !filter) throw new Inexpressible(`the filter on input '${i.metric}' names dimensions of no single model`);
  return {
    name: i.metric,
    ...(filter ? { filter } : {}),
    ...(i.alias ? { alias: i.alias } : {}),
    ...(i.offsetWindow ? { offset_window: windowText(i.offsetWindow) } : {}),
    ...(i.offsetCustom ? { offset_window: `${i.offsetCustom.count} ${i.offsetCustom.granularity}` } : {}),
    ...(i.offsetToGrain ? { offset_to_grain: lower(i.offsetToGrain) } : {}),
  };
}

/** The one model every measure of a metric comes from; undefined when they come from several. */
export function baseModelOf(ctx: ExportContext, metric: Metric): Model | undefined {
  switch (metric.type) {
    case 'SIMPLE':
    case 'CUMULATIVE':
      return ctx.models.get(metric.measure.model);
    case 'CONVERSION':
      return ctx.models.get(metric.base.model);
    default: {
      const inputs = metric.type === 'RATIO' ? [metric.numerator, metric.denominator] : metric.inputs;
      const bases = inputs.map((i) => inputBaseModel(ctx, i));
      return bases.every((b) => b === bases[0]) ? bases[0] : undefined;
    }
  }
}

/** The base model of the metric an input reads. */
export function inputBaseModel(ctx: ExportContext, input: MetricInput): Model | undefined {
  return baseModelOf(ctx, ctx.catalog.metrics.find((m) => m.name === input.metric) as Metric);
}
