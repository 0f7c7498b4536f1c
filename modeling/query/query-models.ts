import type { Grain, Metric, Model } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { identifies, locateDimension } from '../catalog/locate-dimension.ts';
import { StrataError } from '../errors.ts';
import type { DimensionRef } from '../catalog/dimension-ref.ts';
import { quoteInput } from '../quote-input.ts';

/**
 * The models a metric's group-bys and filters are resolved from: each measure's model, and
 * for a conversion metric its base model only (conversions take the base event's values).
 */
export function queryModels(index: CatalogIndex, metrics: readonly Metric[]): Model[] {
  const names = new Set<string>();
  const visit = (metric: Metric, seen: Set<string>): void => {
    if (seen.has(metric.name)) return;
    seen.add(metric.name);
    switch (metric.type) {
      case 'CONVERSION':
        names.add(metric.base.model);
        return;
      case 'RATIO':
      case 'DERIVED':
        for (const input of metric.type === 'RATIO' ? [metric.numerator, metric.denominator] : metric.inputs) {
          const next = index.metrics.get(input.metric);
          if (next) visit(next, seen);
        }
        return;
      default:
        names.add(metric.measure.model);
    }
  };
  for (const metric of metrics) visit(metric, new Set());
  return [...names].map((n) => index.model(n));
}

/** The time grain of a measure's time dimension. */
function measureGrain(model: Model, measureName: string): Grain {
  const measure = model.measures.find((m) => m.name === measureName);
  const timeName = measure?.timeDimension ?? model.defaultTimeDimension;
  return model.dimensions.find((d) => d.name === timeName)?.grain ?? 'DAY';
}

/**
 * `metric_time`'s grain when a query names none: the metric's own default, else its
 * measures' time grain, never finer than a day (MetricFlow's rule).
 */
export function metricDefaultGrain(index: CatalogIndex, metric: Metric, seen = new Set<string>()): Grain {
  if (metric.defaultGrain) return metric.defaultGrain;
  if (seen.has(metric.name)) return 'DAY';
  seen.add(metric.name);
  const grains: Grain[] = [];
  if (metric.type === 'RATIO' || metric.type === 'DERIVED') {
    for (const input of metric.type === 'RATIO' ? [metric.numerator, metric.denominator] : metric.inputs) {
      const next = index.metrics.get(input.metric);
      if (next) grains.push(metricDefaultGrain(index, next, seen));
    }
  } else {
    const input = metric.type === 'CONVERSION' ? metric.base : metric.measure;
    grains.push(measureGrain(index.model(input.model), input.measure));
  }
  const finest = grains.sort((a, b) => GRAINS.indexOf(a) - GRAINS.indexOf(b))[0] ?? 'DAY';
  return GRAINS.indexOf(finest) < GRAINS.indexOf('DAY') ? 'DAY' : finest;
}

/**
 * The model a dimension-only query reads its distinct values from: the first model from
 * which every group-by resolves, preferring one where most of them are local, then the
 * fewest joins, then the narrowest model (MetricFlow's choice of source). With only
 * metric_time, the time spine itself.
 */
export function distinctValuesModel(index: CatalogIndex, refs: readonly DimensionRef[]): Model | 'time_spine' {
  const named = refs.filter((r): r is Exclude<DimensionRef, { kind: 'metric_time' }> => r.kind !== 'metric_time');
  if (named.length === 0) return 'time_spine';
  let best: { model: Model; local: number; joins: number; width: number } | undefined;
  for (const model of index.models.values()) {
    const located = named.map((r) => locateDimension(index, model, r));
    if (!located.every((l) => l.ok)) continue;
    const steps = located.map((l) => (l.ok ? l.located.steps.length : 0));
    // A model where the references are local and their entities identify rows holds each value once.
    const local = steps.filter((s) => s === 0).length + named.filter((r) => r.kind === 'path' && identifies(model, r.entities[0] ?? r.name)).length;
    const joins = steps.reduce((a, b) => a + b, 0);
    const width = model.dimensions.length + model.measures.length + (model.entities ?? []).length;
    const better = !best || local > best.local || (local === best.local && (joins < best.joins || (joins === best.joins && width < best.width)));
    if (better) best = { model, local, joins, width };
  }
  if (!best)
    throw new StrataError(
      'INVALID_QUERY',
      `no model reaches all of ${named
        .slice(0, 10)
        .map((r) => quoteInput(r.text))
        .join(', ')}${named.length > 10 ? ', …' : ''} without fan-out`,
    );
  return best.model;
}
