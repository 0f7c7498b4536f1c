import type { DimensionType, Filter, Grain, Metric, Model } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { leafMeasures } from '../catalog/lineage.ts';
import { castProblem } from '../catalog/values.ts';
import { StrataError } from '../errors.ts';
import { closestNames } from './suggest.ts';
import type { DatePart, MetricQuery } from './metric-query.ts';

export interface ResolvedGroupBy {
  /** Output column name: dots become `__`, a time grain is appended (`metric_time__month`). */
  readonly column: string;
  /** The reference as written. */
  readonly ref: string;
  readonly role: string;
  readonly dimension: string;
  readonly type: DimensionType;
  readonly grain?: Grain;
  readonly datePart?: DatePart;
}

export interface ResolvedQuery {
  readonly metrics: readonly Metric[];
  readonly groupBy: readonly ResolvedGroupBy[];
  readonly where?: Filter;
  readonly timeRange?: { readonly from?: string; readonly to?: string };
  readonly orderBy: readonly { readonly column: string; readonly descending: boolean }[];
  readonly limit?: number;
  readonly offset: number;
}

export const METRIC_TIME = 'metric_time';

/** Checks every name in a query against the catalog and says how to fix what is wrong. */
export function resolveQuery(index: CatalogIndex, query: MetricQuery): ResolvedQuery {
  if (query.metrics.length === 0) throw new StrataError('INVALID_QUERY', 'name at least one metric in `metrics`');
  const metrics = query.metrics.map((name) => resolveMetric(index, name));
  const models = [...new Set(metrics.flatMap((m) => leafMeasures(m, index.metrics).map((l) => l.model)))].map((n) => index.model(n));
  const groupBy = (query.groupBy ?? []).map((g) => resolveGroupBy(index, models, metrics, g.dimension, g.grain, g.datePart));
  const columns = new Set<string>();
  for (const g of groupBy) {
    if (columns.has(g.column)) throw new StrataError('INVALID_QUERY', `'${g.column}' is grouped by twice`);
    columns.add(g.column);
  }
  if (query.where) checkFilterNames(index, models, metrics, query.where);
  checkTimeRange(query.timeRange);
  const orderBy = (query.orderBy ?? []).map((o) => ({
    column: resolveOrderField(o.field, metrics, groupBy),
    descending: o.direction === 'DESC',
  }));
  if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 0)) throw new StrataError('BAD_USER_INPUT', '`limit` must be a non-negative integer');
  if (query.offset !== undefined && (!Number.isInteger(query.offset) || query.offset < 0)) throw new StrataError('BAD_USER_INPUT', '`offset` must be a non-negative integer');
  return {
    metrics,
    groupBy,
    ...(query.where ? { where: query.where } : {}),
    ...(query.timeRange ? { timeRange: query.timeRange } : {}),
    orderBy,
    ...(query.limit !== undefined ? { limit: query.limit } : {}),
    offset: query.offset ?? 0,
  };
}

function resolveMetric(index: CatalogIndex, name: string): Metric {
  const metric = index.metrics.get(name);
  if (metric && metric.status !== 'ARCHIVED') return metric;
  const suggestions = closestNames(name, [...index.metrics.keys()]);
  throw new StrataError('UNKNOWN_MEMBER', `unknown metric '${name}'${suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : ''}`, { suggestions });
}

function splitRef(ref: string): { role: string; dimension: string } {
  const dot = ref.indexOf('.');
  return dot < 0 ? { role: '', dimension: ref } : { role: ref.slice(0, dot), dimension: ref.slice(dot + 1) };
}

/** A dimension reference must resolve from every model the metrics aggregate. */
function resolveDimension(index: CatalogIndex, models: readonly Model[], metrics: readonly Metric[], ref: string): { role: string; dimension: string; type: DimensionType; grain?: Grain } {
  if (ref === METRIC_TIME) return { role: '', dimension: METRIC_TIME, type: 'time', grain: 'DAY' };
  const { role, dimension } = splitRef(ref);
  let type: DimensionType | undefined;
  let grain: Grain | undefined;
  for (const model of models) {
    const found = index.dimension(model, role, dimension);
    if (found.ok) {
      type = found.dimension.type;
      grain = found.dimension.grain;
      continue;
    }
    if (found.reason === 'unknown') {
      const known = new Set([...index.models.values()].flatMap((m) => m.dimensions.map((d) => `${m.name}.${d.name}`)));
      if (!known.has(ref)) {
        const suggestions = closestNames(ref, [...known, METRIC_TIME]);
        throw new StrataError('UNKNOWN_MEMBER', `unknown dimension '${ref}'${suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : ''}`, { suggestions });
      }
    }
    const users = metrics.filter((m) => leafMeasures(m, index.metrics).some((l) => l.model === model.name)).map((m) => m.name);
    throw new StrataError('INVALID_QUERY', `dimension '${ref}' cannot slice metric ${users.map((u) => `'${u}'`).join(', ')}: ${found.message}`);
  }
  return { role, dimension, type: type ?? 'string', ...(grain ? { grain } : {}) };
}

function resolveGroupBy(index: CatalogIndex, models: readonly Model[], metrics: readonly Metric[], ref: string, grain?: Grain, datePart?: DatePart): ResolvedGroupBy {
  const found = resolveDimension(index, models, metrics, ref);
  if ((grain || datePart) && found.type !== 'time') {
    throw new StrataError('INVALID_QUERY', `'${ref}' is a ${found.type} dimension; grain and datePart apply only to time dimensions`);
  }
  if (grain && !GRAINS.includes(grain)) throw new StrataError('BAD_USER_INPUT', `unknown grain '${grain}'`);
  const base = ref.replaceAll('.', '__');
  const effectiveGrain = found.type === 'time' && !datePart ? grain ?? found.grain ?? 'DAY' : undefined;
  const column = datePart ? `${base}__extract_${datePart.toLowerCase()}` : effectiveGrain ? `${base}__${effectiveGrain.toLowerCase()}` : base;
  return { column, ref, role: found.role, dimension: found.dimension, type: found.type, ...(effectiveGrain ? { grain: effectiveGrain } : {}), ...(datePart ? { datePart } : {}) };
}

function checkFilterNames(index: CatalogIndex, models: readonly Model[], metrics: readonly Metric[], filter: Filter): void {
  if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.forEach((f) => checkFilterNames(index, models, metrics, f));
  if (filter.kind === 'not') return checkFilterNames(index, models, metrics, filter.filter);
  const found = resolveDimension(index, models, metrics, filter.dimension);
  if (filter.grain && found.type !== 'time') throw new StrataError('INVALID_QUERY', `'${filter.dimension}' is a ${found.type} dimension; grain applies only to time dimensions`);
  for (const value of filter.values) {
    const problem = castProblem(found.type, value);
    if (problem) throw new StrataError('BAD_USER_INPUT', `filter on '${filter.dimension}' (${found.type}): ${problem}`);
  }
}

function checkTimeRange(range: MetricQuery['timeRange']): void {
  for (const [bound, value] of Object.entries(range ?? {})) {
    if (value === undefined || value === null) continue;
    const problem = castProblem('time', value);
    if (problem) throw new StrataError('BAD_USER_INPUT', `timeRange.${bound}: ${problem}`);
  }
  if (range?.from && range.to && range.from >= range.to) throw new StrataError('BAD_USER_INPUT', 'timeRange.from must be before timeRange.to (the range is half-open)');
}

function resolveOrderField(field: string, metrics: readonly Metric[], groupBy: readonly ResolvedGroupBy[]): string {
  if (metrics.some((m) => m.name === field)) return field;
  const group = groupBy.find((g) => g.column === field || g.ref === field);
  if (group) return group.column;
  const names = [...metrics.map((m) => m.name), ...groupBy.map((g) => g.column)];
  throw new StrataError('INVALID_QUERY', `cannot order by '${field}': order by one of ${names.join(', ')}`, { suggestions: closestNames(field, names) });
}
