import type { MeasureInput, Metric } from './types.ts';

/** The metrics a metric reads directly. */
export function inputMetrics(metric: Metric): string[] {
  switch (metric.type) {
    case 'RATIO':
      return [metric.numerator.metric, metric.denominator.metric];
    case 'DERIVED':
      return metric.inputs.map((i) => i.metric);
    default:
      return [];
  }
}

/** The measures a metric reads directly (not through other metrics). */
export function directMeasures(metric: Metric): MeasureInput[] {
  switch (metric.type) {
    case 'SIMPLE':
    case 'CUMULATIVE':
      return [metric.measure];
    case 'CONVERSION':
      return [metric.base, metric.conversion];
    default:
      return [];
  }
}

/** Every measure a metric depends on, through any depth of input metrics (cycles tolerated). */
export function leafMeasures(metric: Metric, metrics: ReadonlyMap<string, Metric>, seen = new Set<string>()): MeasureInput[] {
  if (seen.has(metric.name)) return [];
  seen.add(metric.name);
  const nested = inputMetrics(metric).flatMap((name) => {
    const input = metrics.get(name);
    return input ? leafMeasures(input, metrics, seen) : [];
  });
  const all = [...directMeasures(metric), ...nested];
  return all.filter((m, i) => all.findIndex((o) => o.model === m.model && o.measure === m.measure) === i);
}
