import type { DimensionType, Filter, Grain, Metric, Model } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { locateDimension } from '../catalog/locate-dimension.ts';
import { castProblem } from '../catalog/values.ts';
import { StrataError } from '../errors.ts';
import { closestNames } from './suggest.ts';
import { quoteInput } from '../quote-input.ts';
import type { DatePart, MetricQuery } from './metric-query.ts';
import {
  customGrainNames,
  defaultGrainOf,
  grainSuffix,
  metricFilterJoinKey,
  parseDimensionRef,
  refBaseName,
  type DimensionRef,
  type GrainChoice,
} from '../catalog/dimension-ref.ts';
import { expandSavedQuery } from './saved-query.ts';
import { coarsestGrain, metricDefaultGrain, metricMinGrain, queryModels, distinctValuesModel } from './query-models.ts';
import { validateCondition } from '../catalog/validate-condition.ts';

export { METRIC_TIME } from '../catalog/dimension-ref.ts';

export interface ResolvedGroupBy {
  /** Output column name: MetricFlow's (`metric_time__month`, `listing__country_latest`, `metric_time__extract_dow`). */
  readonly column: string;
  /** The reference as written. */
  readonly text: string;
  readonly ref: DimensionRef;
  readonly metricTime: boolean;
  readonly type: DimensionType;
  readonly grain?: Grain;
  /** A custom granularity of the time spine (`alien_day`). */
  readonly customGrain?: string;
  readonly datePart?: DatePart;
}

export interface ResolvedQuery {
  readonly metrics: readonly Metric[];
  /** The models the group-bys and filters are resolved from (for a distinct-values query, its base). */
  readonly models: readonly Model[];
  /** Dimension-only query: distinct values of the group-bys, from this model (or the time spine alone). */
  readonly distinctFrom?: Model | 'time_spine';
  readonly groupBy: readonly ResolvedGroupBy[];
  readonly where?: Filter;
  readonly timeRange?: { readonly from?: string; readonly to?: string };
  /**
   * The grain whose whole periods the time range is widened to: the finest metric_time grain
   * grouped by, else the finest grain metric_time can take for the metrics (MetricFlow).
   */
  readonly timeRangeGrain?: Grain;
  readonly orderBy: readonly { readonly column: string; readonly descending: boolean }[];
  readonly limit?: number;
  readonly offset: number;
  /** The caller's row-level scope, added to every aggregation over a model that reaches it. */
  readonly scope?: Filter;
  /** Joined models whose key is read from the joining column (`MetricQuery.trustedJoins`). */
  readonly trustedJoins?: readonly string[];
}

/** Checks every name in a query against the catalog and says how to fix what is wrong. */
export function resolveQuery(index: CatalogIndex, input: MetricQuery): ResolvedQuery {
  if (input.where) validateCondition(input.where, { noun: 'filter', path: 'where' });
  const query = expandSavedQuery(index.catalog, input);
  if (query.metrics.length === 0 && (query.groupBy ?? []).length === 0)
    throw new StrataError('INVALID_QUERY', 'name at least one metric in `metrics`, or group-bys for their distinct values');
  const metrics = query.metrics.map((name) => resolveMetric(index, name));
  const custom = customGrainNames(index.catalog);
  const refs = (query.groupBy ?? []).map((g) => ({ input: g, ref: parseDimensionRef(g.dimension, custom) }));
  const filterRefs = query.where ? filterDimensions(query.where, custom).map((d) => parseDimensionRef(d, custom)) : [];
  const distinctFrom = metrics.length === 0 ? distinctValuesModel(index, [...refs.map((r) => r.ref), ...filterRefs]) : undefined;
  const models = distinctFrom ? (distinctFrom === 'time_spine' ? [] : [distinctFrom]) : queryModels(index, metrics);
  // Several metrics: the coarsest of their default grains, so each is shown at a grain it supports (MetricFlow).
  const defaultGrain = coarsestGrain(metrics.map((m) => metricDefaultGrain(index, m))) ?? 'DAY';
  const groupBy = refs.map(({ input: g, ref }) => resolveGroupBy(index, models, metrics, ref, g.grain, g.datePart, defaultGrain));
  const columns = new Set<string>();
  for (const g of groupBy) {
    if (columns.has(g.column)) throw new StrataError('INVALID_QUERY', `${quoteInput(g.column)} is grouped by twice`);
    columns.add(g.column);
  }
  if (metrics.length > 0) checkVersionedGroupBys(index, models, groupBy);
  if (query.where) checkFilterNames(index, models, metrics, query.where, custom);
  checkTimeRange(query.timeRange);
  const orderBy = (query.orderBy ?? []).map((o) => ({ column: resolveOrderField(o.field, metrics, groupBy), descending: o.direction === 'DESC' }));
  if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 0))
    throw new StrataError('BAD_USER_INPUT', '`limit` must be a non-negative integer');
  if (query.offset !== undefined && (!Number.isInteger(query.offset) || query.offset < 0))
    throw new StrataError('BAD_USER_INPUT', '`offset` must be a non-negative integer');
  const timeRangeGrain = query.timeRange ? rangeGrain(index, metrics, groupBy) : undefined;
  return {
    metrics,
    models,
    ...(distinctFrom ? { distinctFrom } : {}),
    groupBy,
    ...(query.where ? { where: query.where } : {}),
    ...(query.timeRange ? { timeRange: query.timeRange } : {}),
    ...(timeRangeGrain ? { timeRangeGrain } : {}),
    orderBy,
    ...(query.limit !== undefined ? { limit: query.limit } : {}),
    offset: query.offset ?? 0,
    ...(input.scope ? { scope: input.scope } : {}),
    ...(input.trustedJoins && input.trustedJoins.length > 0 ? { trustedJoins: [...input.trustedJoins].sort() } : {}),
  };
}

function rangeGrain(index: CatalogIndex, metrics: readonly Metric[], groupBy: readonly ResolvedGroupBy[]): Grain | undefined {
  const grouped = groupBy.filter((g) => g.metricTime && g.grain && !g.datePart).map((g) => g.grain as Grain);
  if (grouped.length > 0) return grouped.sort((a, b) => GRAINS.indexOf(a) - GRAINS.indexOf(b))[0];
  return coarsestGrain(metrics.map((m) => metricMinGrain(index, m)));
}

function resolveMetric(index: CatalogIndex, name: string): Metric {
  const metric = index.metrics.get(name);
  if (metric && metric.status !== 'ARCHIVED') return metric;
  const suggestions = closestNames(name, [...index.metrics.keys()]);
  throw new StrataError(
    'UNKNOWN_MEMBER',
    `unknown metric ${quoteInput(name)}${suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : ''}`,
    { suggestions },
  );
}

/** A reference must resolve from every model the query aggregates; returns its type and defined grain. */
export function resolveDimension(
  index: CatalogIndex,
  models: readonly Model[],
  metrics: readonly Metric[],
  ref: DimensionRef,
): { type: DimensionType; grain?: Grain; entityPrefix?: readonly string[] } {
  if (ref.kind === 'metric_time') return { type: 'time', grain: 'DAY' };
  let found: { type: DimensionType; grain?: Grain; entityPrefix?: readonly string[] } | undefined;
  for (const model of models) {
    const located = locateDimension(index, model, ref);
    if (located.ok) {
      const { dimension, entityPrefix } = located.located;
      found ??= { type: dimension.type, ...(dimension.grain ? { grain: dimension.grain } : {}), ...(entityPrefix ? { entityPrefix } : {}) };
      continue;
    }
    if (located.reason === 'unknown') {
      const known = knownNames(index);
      if (!known.has(refBaseName(ref)) && !known.has(ref.text)) {
        const suggestions = closestNames(ref.text, [...known, 'metric_time']);
        throw new StrataError(
          'UNKNOWN_MEMBER',
          `unknown dimension ${quoteInput(ref.text)}${suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : ''}`,
          { suggestions },
        );
      }
    }
    const users = metrics.filter((m) => queryModels(index, [m]).some((l) => l.name === model.name)).map((m) => `'${m.name}'`);
    throw new StrataError(
      'INVALID_QUERY',
      `dimension ${quoteInput(ref.text)} cannot slice ${users.length ? `metric ${users.join(', ')}` : `'${model.name}'`}: ${located.message}`,
    );
  }
  if (!found && models.length === 0) throw new StrataError('INVALID_QUERY', `${quoteInput(ref.text)} cannot be grouped with the time spine alone`);
  return found ?? { type: 'string' };
}

/** Every `model.dimension` and MetricFlow `entity__dimension` name of the catalog, for suggestions. */
function knownNames(index: CatalogIndex): Set<string> {
  return new Set(
    [...index.models.values()].flatMap((m) => [
      ...m.dimensions.map((d) => `${m.name}.${d.name}`),
      ...(m.entities ?? []).flatMap((e) => [e.name, ...m.dimensions.map((d) => `${e.name}__${d.name}`)]),
    ]),
  );
}

function resolveGroupBy(
  index: CatalogIndex,
  models: readonly Model[],
  metrics: readonly Metric[],
  ref: DimensionRef,
  grain: Grain | undefined,
  datePart: DatePart | undefined,
  defaultGrain: Grain,
): ResolvedGroupBy {
  const found = resolveDimension(index, models, metrics, ref);
  const named: GrainChoice = ref.grain;
  if ((grain || datePart || named.grain || named.custom) && found.type !== 'time') {
    throw new StrataError('INVALID_QUERY', `${quoteInput(ref.text)} is a ${found.type} dimension; grain and datePart apply only to time dimensions`);
  }
  if (grain && !GRAINS.includes(grain)) throw new StrataError('BAD_USER_INPUT', `unknown grain '${grain}'`);
  if (grain && named.grain && grain !== named.grain)
    throw new StrataError('BAD_USER_INPUT', `${quoteInput(ref.text)} names grain ${named.grain} but grain ${grain} was given`);
  const metricTime = ref.kind === 'metric_time';
  const own = metricTime ? defaultGrain : defaultGrainOf(found);
  const effective: GrainChoice = found.type === 'time' && !datePart ? (named.custom ? named : { grain: grain ?? named.grain ?? own }) : {};
  // A path matched as a suffix is named in full, as MetricFlow names it (`listing__user__x`).
  const base = [...(found.entityPrefix ?? []), refBaseName(ref)].join('__');
  const suffix = grainSuffix(effective);
  const column = datePart ? `${base}__extract_${datePart.toLowerCase()}` : suffix ? `${base}__${suffix}` : base;
  return {
    column,
    text: ref.text,
    ref,
    metricTime,
    type: found.type,
    ...(effective.grain ? { grain: effective.grain } : {}),
    ...(effective.custom ? { customGrain: effective.custom } : {}),
    ...(datePart ? { datePart } : {}),
  };
}

/**
 * A group-by read from a model with a validity window (a slowly changing dimension), or
 * through one, needs metric_time among the group-bys (MetricFlow refuses it otherwise: the
 * version joined is the one valid at each row's time, which only metric_time carries).
 */
function checkVersionedGroupBys(index: CatalogIndex, models: readonly Model[], groupBy: readonly ResolvedGroupBy[]): void {
  if (groupBy.some((g) => g.metricTime)) return;
  const versioned = groupBy.filter(
    (g) =>
      g.ref.kind !== 'metric_time' &&
      models.some((model) => {
        const found = locateDimension(index, model, g.ref as Exclude<DimensionRef, { kind: 'metric_time' }>);
        return found.ok && found.located.steps.some((step) => index.models.get(step.join.model)?.validity !== undefined);
      }),
  );
  if (versioned.length === 0) return;
  const names = versioned.map((g) => quoteInput(g.text));
  throw new StrataError(
    'INVALID_QUERY',
    `${names.join(', ')} ${versioned.length === 1 ? 'is' : 'are'} read from a slowly changing dimension (rows valid from and to a time): group by metric_time too, so that each row joins the version valid at its time`,
    { reason: 'SCD_REQUIRES_METRIC_TIME', dimensions: versioned.map((g) => g.text) },
  );
}

function checkFilterNames(index: CatalogIndex, models: readonly Model[], metrics: readonly Metric[], filter: Filter, custom: ReadonlySet<string>): void {
  if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.forEach((f) => checkFilterNames(index, models, metrics, f, custom));
  if (filter.kind === 'not') return checkFilterNames(index, models, metrics, filter.filter, custom);
  if (filter.kind === 'metric') {
    const metric = resolveMetric(index, filter.metric);
    for (const g of filter.groupBy) {
      resolveDimension(index, queryModels(index, [metric]), [metric], parseDimensionRef(g, custom));
      resolveDimension(index, models, metrics, parseDimensionRef(metricFilterJoinKey(g, custom), custom));
    }
    return checkValues(filter.values, 'number', `Metric(${quoteInput(filter.metric)})`);
  }
  const ref = parseDimensionRef(filter.dimension, custom);
  const found = resolveDimension(index, models, metrics, ref);
  if ((filter.grain || ref.grain.grain || ref.grain.custom) && found.type !== 'time')
    throw new StrataError('INVALID_QUERY', `${quoteInput(filter.dimension)} is a ${found.type} dimension; grain applies only to time dimensions`);
  checkValues(filter.values, found.type, quoteInput(filter.dimension));
}

/** The dimension references a filter compares (metric filters' join entities included). */
function filterDimensions(filter: Filter, custom: ReadonlySet<string>): string[] {
  if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.flatMap((f) => filterDimensions(f, custom));
  if (filter.kind === 'not') return filterDimensions(filter.filter, custom);
  return filter.kind === 'metric' ? filter.groupBy.map((g) => metricFilterJoinKey(g, custom)) : [filter.dimension];
}

function checkValues(values: readonly string[], type: DimensionType, what: string): void {
  for (const value of values) {
    const problem = castProblem(type, value);
    if (problem) throw new StrataError('BAD_USER_INPUT', `filter on ${what} (${type}): ${problem}`);
  }
}

function checkTimeRange(range: MetricQuery['timeRange']): void {
  for (const [bound, value] of Object.entries(range ?? {})) {
    if (value === undefined || value === null) continue;
    const problem = castProblem('time', value);
    if (problem) throw new StrataError('BAD_USER_INPUT', `timeRange.${bound}: ${problem}`);
  }
  if (range?.from && range.to && range.from >= range.to)
    throw new StrataError('BAD_USER_INPUT', 'timeRange.from must be before timeRange.to (the range is half-open)');
}

function resolveOrderField(field: string, metrics: readonly Metric[], groupBy: readonly ResolvedGroupBy[]): string {
  if (metrics.some((m) => m.name === field)) return field;
  const group =
    groupBy.find((g) => g.column === field || g.text === field) ??
    groupBy.find((g) => refBaseName(g.ref) === field || refBaseName(g.ref) === field.replaceAll('.', '__'));
  if (group) return group.column;
  const names = [...metrics.map((m) => m.name), ...groupBy.map((g) => g.column)];
  throw new StrataError('INVALID_QUERY', `cannot order by ${quoteInput(field)}: order by one of ${names.join(', ')}`, {
    suggestions: closestNames(field, names),
  });
}

/**
 * Group-bys, a filter and a time range read from one model, resolved and checked as a metric
 * query's are (names, types, values, grains): for queries that aggregate a model otherwise
 * than through a metric, such as funnels over the event stream.
 */
export function resolveOnModel(
  index: CatalogIndex,
  model: Model,
  input: { groupBy?: readonly { dimension: string; grain?: Grain; datePart?: DatePart }[]; where?: Filter; timeRange?: MetricQuery['timeRange'] },
): { groupBy: ResolvedGroupBy[] } {
  if (input.where) validateCondition(input.where, { noun: 'filter', path: 'where' });
  const custom = customGrainNames(index.catalog);
  const groupBy = (input.groupBy ?? []).map((g) => resolveGroupBy(index, [model], [], parseDimensionRef(g.dimension, custom), g.grain, g.datePart, 'DAY'));
  const columns = new Set<string>();
  for (const g of groupBy) {
    if (columns.has(g.column)) throw new StrataError('INVALID_QUERY', `${quoteInput(g.column)} is grouped by twice`);
    columns.add(g.column);
  }
  checkVersionedGroupBys(index, [model], groupBy);
  if (input.where) checkFilterNames(index, [model], [], input.where, custom);
  checkTimeRange(input.timeRange);
  return { groupBy };
}
