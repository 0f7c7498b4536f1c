import type { CatalogIndex } from './catalog-index.ts';
import type { Metric, MetricType, Model } from './types.ts';
import { TAG_JOIN, type Reach } from './join-graph.ts';
import { leafMeasures } from './lineage.ts';

export interface MetricLineage {
  readonly models: readonly string[];
  readonly measures: readonly string[];
  readonly tables: readonly string[];
}

/** Models, measures (`model.measure`) and source tables a metric reads, through any input metrics. */
export function metricLineage(index: CatalogIndex, metric: Metric): MetricLineage {
  const leaves = leafMeasures(metric, index.metrics);
  const models = [...new Set(leaves.map((l) => l.model))];
  const tables = models.map((m) => index.model(m).source).map((s) => ('table' in s ? s.table : '(sql)'));
  return { models, measures: leaves.map((l) => `${l.model}.${l.measure}`), tables: [...new Set(tables)] };
}

/** A role reached through a model's `tag` join is shown as `customer.tag`, the form queries use for tags. */
function displayRole(base: Model, reach: Reach): string {
  const last = reach.path.at(-1);
  if (last?.join.name !== TAG_JOIN) return reach.role;
  const owner = reach.path.at(-2)?.join.name ?? base.name;
  return `${owner}.${TAG_JOIN}`;
}

/** Every dimension (`role.dimension`, plus `metric_time`) that can slice a metric: reachable from all its models. */
export function metricDimensions(index: CatalogIndex, metric: Metric): string[] {
  const models = [...new Set(leafMeasures(metric, index.metrics).map((l) => l.model))].map((m) => index.model(m));
  const per = models.map((model) => {
    const roles = new Map<string, number>();
    for (const r of index.reaches(model)) roles.set(r.role, (roles.get(r.role) ?? 0) + 1);
    return new Set(
      index
        .reaches(model)
        .filter((r) => roles.get(r.role) === 1)
        .flatMap((r) => r.model.dimensions.map((d) => `${displayRole(model, r)}.${d.name}`)),
    );
  });
  const [first, ...rest] = per;
  const shared = [...(first ?? [])].filter((d) => rest.every((s) => s.has(d)));
  return ['metric_time', ...shared.sort()];
}

/** The time dimension placing a metric in time (`model.dimension` of its first measure). */
export function metricTimeDimension(index: CatalogIndex, metric: Metric): string | null {
  const [leaf] = leafMeasures(metric, index.metrics);
  if (!leaf) return null;
  const { model, measure } = index.measure(leaf);
  const name = measure.timeDimension ?? model.defaultTimeDimension;
  return name ? `${model.name}.${name}` : null;
}

/**
 * A metric's kind as the API reports it: its own type, except that a SIMPLE metric over a
 * measure with a non-additive dimension is `SEMI_ADDITIVE`. The measure is the one source of
 * truth: the compiler reads `nonAdditive` from it, whatever the metric says.
 */
export function metricType(index: CatalogIndex, metric: Metric): MetricType {
  if (metric.type !== 'SIMPLE') return metric.type;
  const measure = index.models.get(metric.measure.model)?.measures.find((m) => m.name === metric.measure.measure);
  return measure?.nonAdditive ? 'SEMI_ADDITIVE' : 'SIMPLE';
}
