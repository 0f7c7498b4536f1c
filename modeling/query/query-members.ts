import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Dimension, Filter, Metric, Model } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import { DEFAULT_SENSITIVITY, stricter, type Sensitivity } from '../catalog/sensitivity.ts';
import { locateDimension } from '../catalog/locate-dimension.ts';
import { customGrainNames, parseDimensionRef, type DimensionRef } from '../catalog/dimension-ref.ts';
import { queryModels } from './query-models.ts';
import type { ResolvedQuery } from './resolve-query.ts';

/** A catalog member a query reads, with the class of what it reveals there. */
export interface QueryMember {
  /** As the query names it (`customer.customer_id`, `metric_time`, a metric name). */
  readonly name: string;
  readonly use: 'metric' | 'group-by' | 'filter' | 'time range';
  readonly sensitivity: Sensitivity;
  /** Why the class is stricter than the member's own, e.g. `below a day`. */
  readonly detail?: string;
}

const DAY = GRAINS.indexOf('DAY');

/**
 * Every member a resolved query groups, filters or aggregates by, with the class of what
 * that use reveals: a time dimension finer than a day takes its sub-day class (an event's
 * time of day identifies the event), as does a filter or range bound with a time of day.
 */
export function queryMembers(index: CatalogIndex, query: ResolvedQuery): QueryMember[] {
  const custom = customGrainNames(index.catalog);
  const members: QueryMember[] = query.metrics.map((m) => ({ name: m.name, use: 'metric', sensitivity: metricSensitivity(index, m) }));
  for (const g of query.groupBy) {
    const fine = (g.grain !== undefined && GRAINS.indexOf(g.grain) < DAY) || g.datePart === 'HOUR';
    members.push(member(index, query, g.ref, 'group-by', fine));
  }
  const visit = (filter: Filter): void => {
    if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.forEach(visit);
    if (filter.kind === 'not') return visit(filter.filter);
    if (filter.kind === 'metric') {
      members.push({ name: filter.metric, use: 'filter', sensitivity: metricSensitivity(index, index.metrics.get(filter.metric)) });
      for (const g of filter.groupBy) members.push(member(index, query, parseDimensionRef(g, custom), 'filter', false));
      return;
    }
    const ref = parseDimensionRef(filter.dimension, custom);
    const fine =
      (filter.grain !== undefined && GRAINS.indexOf(filter.grain) < DAY) ||
      (ref.grain.grain !== undefined && GRAINS.indexOf(ref.grain.grain) < DAY) ||
      filter.values.some(hasTimeOfDay);
    members.push(member(index, query, ref, 'filter', fine));
  };
  if (query.where) visit(query.where);
  const bounds = [query.timeRange?.from, query.timeRange?.to].filter((b): b is string => typeof b === 'string');
  if (bounds.some(hasTimeOfDay)) members.push({ ...metricTimeMember(index, query, true), use: 'time range' });
  return members;
}

/** A value with a time of day other than midnight (`2026-06-01T08:00:00Z`). */
function hasTimeOfDay(value: string): boolean {
  const match = /^\d{4}-\d{2}-\d{2}[T ](\d{2}):?(\d{2})?:?(\d{2})?(?:\.(\d+))?/.exec(value);
  return match !== null && [match[1], match[2], match[3], match[4]].some((part) => part !== undefined && /[1-9]/.test(part));
}

function member(index: CatalogIndex, query: ResolvedQuery, ref: DimensionRef, use: QueryMember['use'], fine: boolean): QueryMember {
  if (ref.kind === 'metric_time') return { ...metricTimeMember(index, query, fine), use };
  const dimension = locate(index, query.models, ref);
  if (!dimension) return { name: ref.text, use, sensitivity: DEFAULT_SENSITIVITY };
  return { name: ref.text, use, ...classAt(dimension, fine) };
}

function classAt(dimension: Dimension, fine: boolean): { sensitivity: Sensitivity; detail?: string } {
  const own = dimension.sensitivity ?? DEFAULT_SENSITIVITY;
  if (!fine || dimension.type !== 'time' || !dimension.subDaySensitivity) return { sensitivity: own };
  return { sensitivity: stricter(own, dimension.subDaySensitivity), detail: 'below a day' };
}

/** metric_time is each metric's own time dimension: its class is the strictest of theirs. */
function metricTimeMember(index: CatalogIndex, query: ResolvedQuery, fine: boolean): Omit<QueryMember, 'use'> {
  let sensitivity: Sensitivity = DEFAULT_SENSITIVITY;
  let detail: string | undefined;
  for (const time of metricTimeDimensions(index, query.metrics)) {
    const at = classAt(time, fine);
    sensitivity = stricter(sensitivity, at.sensitivity);
    detail ??= at.detail;
  }
  return { name: 'metric_time', sensitivity, ...(detail ? { detail } : {}) };
}

function metricTimeDimensions(index: CatalogIndex, metrics: readonly Metric[]): Dimension[] {
  const found: Dimension[] = [];
  for (const model of queryModels(index, metrics)) {
    for (const measure of model.measures) {
      const name = measure.timeDimension ?? model.defaultTimeDimension;
      const time = model.dimensions.find((d) => d.name === name);
      if (time && !found.includes(time)) found.push(time);
    }
  }
  return found;
}

function locate(index: CatalogIndex, models: readonly Model[], ref: Exclude<DimensionRef, { kind: 'metric_time' }>): Dimension | undefined {
  const candidates = models.length > 0 ? models : [...index.models.values()];
  for (const model of candidates) {
    const found = locateDimension(index, model, ref);
    if (found.ok) {
      if (!found.located.isEntity) return found.located.dimension;
      const entity = (found.located.model.entities ?? []).find((e) => e.name === found.located.dimension.name);
      return { ...found.located.dimension, ...(entity?.sensitivity ? { sensitivity: entity.sensitivity } : {}) };
    }
  }
  return undefined;
}

/** The strictest class of the measures a metric aggregates, through ratios and derivations. */
export function metricSensitivity(index: CatalogIndex, metric: Metric | undefined, seen = new Set<string>()): Sensitivity {
  if (!metric || seen.has(metric.name)) return DEFAULT_SENSITIVITY;
  seen.add(metric.name);
  switch (metric.type) {
    case 'RATIO':
      return [metric.numerator, metric.denominator].reduce<Sensitivity>(
        (s, i) => stricter(s, metricSensitivity(index, index.metrics.get(i.metric), seen)),
        'public',
      );
    case 'DERIVED':
      return metric.inputs.reduce<Sensitivity>((s, i) => stricter(s, metricSensitivity(index, index.metrics.get(i.metric), seen)), 'public');
    case 'CONVERSION':
      return stricter(measureSensitivity(index, metric.base), measureSensitivity(index, metric.conversion));
    default:
      return measureSensitivity(index, metric.measure);
  }
}

function measureSensitivity(index: CatalogIndex, input: { model: string; measure: string }): Sensitivity {
  return index.measure(input).measure.sensitivity ?? DEFAULT_SENSITIVITY;
}
