import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Dimension, Filter, Grain, Model, TimeSpine } from '../catalog/types.ts';
import { sqlCompiler } from '../plan/sql-compiler.ts';
import { GRAINS } from '../catalog/types.ts';
import { locateDimension } from '../catalog/locate-dimension.ts';
import type { ResolvedGroupBy, ResolvedQuery } from '../query/resolve-query.ts';
import { customGrainNames, parseDimensionRef, type DimensionRef, type GrainChoice } from '../query/dimension-ref.ts';
import { Relation } from './relation.ts';
import { filterSql, type FilterColumn, type FilterScope } from './filter-sql.ts';
import { boundFor, customGrainSpine, customGrainValue, extractPart, localTime, truncate, widenToGrain, type TimeColumn } from './time.ts';
import { shiftedTime, type TimeOffset } from './time-offset.ts';

/** Everything an aggregation over one model needs: its FROM, time column, group-bys and filters. */
export interface NodeScope {
  readonly relation: Relation;
  readonly model: Model;
  /** The model's time column placing rows in time (shifted by any offset). */
  readonly time: TimeColumn;
  /** One SQL expression per query group-by, in query order. */
  readonly groups: readonly RawBuilder<unknown>[];
  /** Whether each group-by is metric_time (or the node's own time dimension, which is the same). */
  readonly isPeriod: readonly boolean[];
  /** Group expressions that are metric_time (the periods), for windows that partition by period. */
  readonly periodGroups: readonly RawBuilder<unknown>[];
  /** The row filters: query where, metric filters and the measure's own filter. */
  readonly filters: readonly RawBuilder<unknown>[];
  /** `time >= from AND time < to` for the (widened) query time range, when one is given. */
  readonly timeRange: readonly RawBuilder<unknown>[];
  readonly range: { from?: string; to?: string };
  /** Compiles another filter against this scope (e.g. for a subset of rows). */
  readonly compileFilter: (filter: Filter) => RawBuilder<unknown>;
  /** A referenced column of this scope (for conversion entities and constant properties). */
  readonly column: (ref: string) => FilterColumn;
}

/** Compiles a metric query as a subquery (for `Metric(...)` filters), without its row cap. */
export type MetricSubquery = (metric: string, groupBy: readonly string[]) => RawBuilder<unknown>;

export interface NodeScopeInput {
  readonly index: CatalogIndex;
  readonly query: ResolvedQuery;
  readonly model: Model;
  readonly timeDimension: string;
  readonly filters: readonly Filter[];
  readonly offsets: readonly TimeOffset[];
  /** Alias prefix for the node's tables, unique within one statement. */
  readonly prefix: string;
  readonly subquery?: MetricSubquery;
  /** How joined models (and metric filters) join: FULL for a distinct-values query. */
  readonly joinKind?: 'LEFT' | 'FULL';
  /** Replaces the model's time (a distinct-values query takes metric_time from the time spine). */
  readonly timeOverride?: (relation: Relation) => TimeColumn;
}

/** The coarsest grain metric_time is grouped by: the time range widens to its periods. */
export function metricTimeGrain(query: ResolvedQuery): Grain | undefined {
  const grains = query.groupBy.filter((g) => g.metricTime && g.grain).map((g) => g.grain as Grain);
  return grains.sort((a, b) => GRAINS.indexOf(b) - GRAINS.indexOf(a))[0];
}

/** Reads a custom granularity column of the spine row matching `period` (a join the caller owns). */
export type CustomGrainLookup = (spine: TimeSpine, customColumn: string, period: RawBuilder<unknown>) => RawBuilder<unknown>;

/** A lookup that LEFT JOINs the spine into a relation, once per spine and period expression. */
export function relationGrainLookup(relation: Relation): CustomGrainLookup {
  const aliases = new Map<string, string>();
  return (spine, customColumn, period) => {
    const key = `${spine.table}|${period.compile(sqlCompiler).sql}`;
    let alias = aliases.get(key);
    if (!alias) {
      alias = `${relation.aliasPrefix}cg${aliases.size}`;
      aliases.set(key, alias);
      relation.addJoin(sql`LEFT JOIN ${sql.table(spine.table)} AS ${sql.id(alias)} ON CAST(${sql.ref(`${alias}.${spine.column}`)} AS timestamp) = ${period}`);
    }
    return sql.ref(`${alias}.${customColumn}`);
  };
}

/** A time value at a grain: truncated, a custom granularity of the spine, or as is. */
export function grainedTime(
  index: CatalogIndex,
  time: TimeColumn,
  grain: GrainChoice,
  lookup?: CustomGrainLookup,
): { expr: RawBuilder<unknown>; date: boolean } | undefined {
  if (grain.custom) {
    const found = customGrainSpine(index.catalog, grain.custom);
    if (!found) throw new Error(`catalog invariant: no custom granularity '${grain.custom}'`);
    const date = GRAINS.indexOf(found.spine.grain) >= GRAINS.indexOf('DAY');
    if (!lookup) return { expr: customGrainValue(time, found.spine, found.column), date };
    const period = sql`CAST(date_trunc(${sql.lit(found.spine.grain.toLowerCase())}, ${localTime(time)}) AS timestamp)`;
    const value = lookup(found.spine, found.column, period);
    return { expr: date ? sql`CAST(${value} AS date)` : sql`CAST(${value} AS timestamp)`, date };
  }
  if (grain.grain) return { expr: truncate(time, grain.grain), date: GRAINS.indexOf(grain.grain) >= GRAINS.indexOf('DAY') };
  return undefined;
}

export function buildNodeScope(input: NodeScopeInput): NodeScope {
  const { index, query, model } = input;
  const relation = new Relation(index, model, input.prefix);
  if (input.joinKind) relation.joinKind = input.joinKind;
  const timeDimension = model.dimensions.find((d) => d.name === input.timeDimension) ?? (input.timeOverride ? { name: '', grain: 'DAY' as const } : undefined);
  if (!timeDimension) throw new Error(`catalog invariant: no time dimension '${input.timeDimension}' in '${model.name}'`);
  if (!input.timeOverride) relation.boundVersionsBy(timeDimension as Dimension);
  const time = input.timeOverride
    ? input.timeOverride(relation)
    : shiftedTime({
        index,
        relation,
        grain: timeDimension.grain ?? 'DAY',
        offsets: input.offsets,
        queryGrain: metricTimeGrain(query),
        rawTime: {
          expr: relation.baseColumn((timeDimension as { sql: string }).sql),
          storage: (timeDimension as { storage?: TimeColumn['storage'] }).storage ?? 'timestamptz',
          timeZone: model.timeZone,
        },
      });
  const custom = customGrainNames(index.catalog);
  const refs = new Map<string, DimensionRef>();
  const parse = (text: string) => refs.get(text) ?? (refs.set(text, parseDimensionRef(text, custom)), refs.get(text) as DimensionRef);

  const isOwnTime = (ref: DimensionRef): boolean => {
    if (ref.kind === 'metric_time') return true;
    const found = locateDimension(index, model, ref);
    return found.ok && found.located.steps.length === 0 && found.located.model.name === model.name && found.located.dimension.name === timeDimension.name;
  };
  const column = (text: string): FilterColumn => {
    const ref = parse(text);
    if (isOwnTime(ref)) return withGrain({ expr: time.expr, type: 'time', time }, ref.grain);
    if (ref.kind === 'metric_time') throw new Error('unreachable');
    const found = locateDimension(index, model, ref);
    if (!found.ok) throw new Error(`query invariant: ${found.message}`);
    const { located } = found;
    const expr = relation.along(located.steps, located.dimension.sql);
    if (located.dimension.type !== 'time') return { expr, type: located.dimension.type };
    const columnTime: TimeColumn = { expr, storage: located.dimension.storage ?? 'timestamptz', timeZone: located.model.timeZone };
    return withGrain({ expr, type: 'time', time: columnTime }, ref.grain);
  };
  const lookup = relationGrainLookup(relation);
  const withGrain = (c: FilterColumn, grain: GrainChoice): FilterColumn => {
    const grained = c.time ? grainedTime(index, c.time, grain, lookup) : undefined;
    return grained ? { ...c, grained } : c;
  };
  const scope: FilterScope = {
    column,
    ...(input.subquery
      ? { metricValue: (leaf: Extract<Filter, { kind: 'metric' }>) => metricValue(leaf, input.subquery as MetricSubquery, column, relation) }
      : {}),
  };
  const groupExpr = (g: ResolvedGroupBy): RawBuilder<unknown> => {
    const c = column(g.text);
    if (!c.time) return c.expr;
    if (g.datePart) return extractPart(c.time, g.datePart);
    return (
      grainedTime(index, c.time, { ...(g.grain ? { grain: g.grain } : {}), ...(g.customGrain ? { custom: g.customGrain } : {}) }, lookup)?.expr ??
      truncate(c.time, 'DAY')
    );
  };
  const groups = query.groupBy.map(groupExpr);
  const isPeriod = query.groupBy.map((g) => g.metricTime || isOwnTime(g.ref));
  const periodGroups = groups.filter((_, i) => isPeriod[i]);
  const compileFilter = (f: Filter) => filterSql(f, scope);
  const rowScope = query.scope && reachesAll(index, model, query.scope, custom) ? [query.scope] : [];
  const filters = [...input.filters, ...rowScope].map(compileFilter);
  const range = widenToGrain(query.timeRange ?? {}, metricTimeGrain(query));
  const timeRange = rangeConditions(time, range);
  return { relation, model, time, groups, isPeriod, periodGroups, filters, timeRange, range, compileFilter, column };
}

/** Whether every dimension a filter compares can be reached from the model (a row scope applies only there). */
function reachesAll(index: CatalogIndex, model: Model, filter: Filter, custom: ReadonlySet<string>): boolean {
  if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.every((f) => reachesAll(index, model, f, custom));
  if (filter.kind === 'not') return reachesAll(index, model, filter.filter, custom);
  if (filter.kind === 'metric') return false;
  const ref = parseDimensionRef(filter.dimension, custom);
  return ref.kind !== 'metric_time' && locateDimension(index, model, ref).ok;
}

/** `time >= from AND time < to`, as far as the range is given. */
export function rangeConditions(time: TimeColumn, range: { from?: string; to?: string }): RawBuilder<unknown>[] {
  return [...(range.from ? [sql`${time.expr} >= ${boundFor(time, range.from)}`] : []), ...(range.to ? [sql`${time.expr} < ${boundFor(time, range.to)}`] : [])];
}

/**
 * A metric's value for the row's entities: the metric grouped by them, joined on them
 * (NULL without a match), as MetricFlow joins a metric filter's subquery.
 */
function metricValue(
  leaf: Extract<Filter, { kind: 'metric' }>,
  subquery: MetricSubquery,
  column: (ref: string) => FilterColumn,
  relation: Relation,
): RawBuilder<unknown> {
  const statement = subquery(leaf.metric, leaf.groupBy);
  const alias = `${relation.aliasPrefix}mf${metricJoins.get(relation) ?? 0}`;
  metricJoins.set(relation, (metricJoins.get(relation) ?? 0) + 1);
  const matches = leaf.groupBy.map((g) => sql`${sql.ref(`${alias}.${g}`)} = ${column(g).expr}`);
  relation.addJoin(sql`${sql.raw(relation.joinKind)} JOIN (${statement}) AS ${sql.id(alias)} ON ${sql.join(matches, sql` AND `)}`);
  return sql.ref(`${alias}.${leaf.metric}`);
}

const metricJoins = new WeakMap<Relation, number>();

/** `WHERE a AND b`, or nothing. */
export function whereClause(conditions: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  return conditions.length === 0 ? sql`` : sql`WHERE ${sql.join(conditions, sql` AND `)}`;
}

/** `GROUP BY 1, 2`, or nothing: ordinals keep parameterized expressions matched. */
export function groupByOrdinals(count: number, first = 1): RawBuilder<unknown> {
  if (count === 0) return sql``;
  return sql`GROUP BY ${sql.join(Array.from({ length: count }, (_, i) => sql.raw(String(first + i))))}`;
}

/** `expr AS "g0", ...` for a node's group-by columns. */
export function groupColumns(groups: readonly RawBuilder<unknown>[]): RawBuilder<unknown>[] {
  return groups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`);
}

export { localTime };
