import type { RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Dimension, Filter, Grain, Model } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import { locateDimension } from '../catalog/locate-dimension.ts';
import type { JoinStep } from '../catalog/join-graph.ts';
import type { ResolvedGroupBy } from '../query/resolve-query.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import { customGrainNames, metricFilterJoinKey, parseDimensionRef, type DimensionRef, type GrainChoice } from '../catalog/dimension-ref.ts';
import { Relation } from './relation.ts';
import { filterSql, type FilterColumn, type FilterScope } from './filter-sql.ts';
import { extractPart, localTime, truncate, type TimeColumn } from './time.ts';
import { shiftedTime, type TimeOffset } from './time-offset.ts';
import { metricValue, relationGrainLookup, type MetricSubquery } from './scope-joins.ts';
import { grainedTime, metricTimeGrains, rangeConditions, widenedRange } from './time-columns.ts';

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
  /**
   * The coarsest plain calendar grain (DAY and coarser) that `metric_time` is grouped by, cut
   * on this scope's time: every group lies within one period of it.
   */
  readonly periodGrain?: Grain;
  /** Compiles another filter against this scope (e.g. for a subset of rows). */
  readonly compileFilter: (filter: Filter) => RawBuilder<unknown>;
  /** A referenced column of this scope (for conversion entities and constant properties). */
  readonly column: (ref: string) => FilterColumn;
}

export interface NodeScopeInput {
  readonly index: CatalogIndex;
  readonly query: PlanQuery;
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
        queryGrains: metricTimeGrains(query),
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
    if (isOwnTime(ref)) return withGrain({ expr: time.expr, type: 'time', time: { ...time, key: 'metric_time' } }, ref.grain);
    if (ref.kind === 'metric_time') throw new Error('unreachable');
    const found = locateDimension(index, model, ref);
    if (!found.ok) throw new Error(`query invariant: ${found.message}`);
    const { located } = found;
    const joining = trustedJoinColumn(query, located.steps, located.model, located.dimension.sql);
    const expr = joining === undefined ? relation.along(located.steps, located.dimension.sql) : relation.baseColumn(joining);
    if (located.dimension.type !== 'time') return { expr, type: located.dimension.type };
    const columnTime: TimeColumn = {
      expr,
      storage: located.dimension.storage ?? 'timestamptz',
      timeZone: located.model.timeZone,
      key: `${located.steps.map((s) => s.join.name).join('/')}/${located.dimension.name}`,
    };
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
      ? {
          metricValue: (leaf: Extract<Filter, { kind: 'metric' }>) =>
            metricValue(leaf, input.subquery as MetricSubquery, (g) => column(metricFilterJoinKey(g, custom)), relation),
        }
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
  const range = widenedRange(query);
  const timeRange = rangeConditions(time, range);
  const calendar = query.groupBy
    .filter((g) => g.metricTime && g.grain && !g.datePart && !g.customGrain && GRAINS.indexOf(g.grain) >= GRAINS.indexOf('DAY'))
    .map((g) => g.grain as Grain)
    .sort((a, b) => GRAINS.indexOf(b) - GRAINS.indexOf(a));
  const periodGrain = input.timeOverride ? undefined : calendar[0];
  return {
    relation,
    model,
    time,
    groups,
    isPeriod,
    periodGroups,
    filters,
    timeRange,
    range,
    ...(periodGrain ? { periodGrain } : {}),
    compileFilter,
    column,
  };
}

/** Whether every dimension a filter compares can be reached from the model (a row scope applies only there). */
function reachesAll(index: CatalogIndex, model: Model, filter: Filter, custom: ReadonlySet<string>): boolean {
  if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.every((f) => reachesAll(index, model, f, custom));
  if (filter.kind === 'not') return reachesAll(index, model, filter.filter, custom);
  if (filter.kind === 'metric') return false;
  const ref = parseDimensionRef(filter.dimension, custom);
  return ref.kind !== 'metric_time' && locateDimension(index, model, ref).ok;
}

export { localTime };
export type { CustomGrainLookup, MetricSubquery } from './scope-joins.ts';
export { relationGrainLookup } from './scope-joins.ts';
export { grainedTime, metricTimeGrain, metricTimeGrains, periodsOf, rangeConditions, widenedRange } from './time-columns.ts';
export { groupByOrdinals, groupColumns, whereClause } from './sql-helpers.ts';

/**
 * The base model's joining column that equals `expression` of the joined model when the query
 * trusts that join (`PlanQuery.trustedJoins`): one hop, a one-column join onto exactly that
 * column. Otherwise undefined (the join is made).
 */
function trustedJoinColumn(query: PlanQuery, steps: readonly JoinStep[], target: Model, expression: string): string | undefined {
  if (!query.trustedJoins?.includes(target.name) || steps.length !== 1) return undefined;
  const { join } = steps[0] as JoinStep;
  if (join.cardinality !== 'many_to_one' || join.on.length !== 1 || join.model !== target.name || target.validity !== undefined) return undefined;
  const [left, right] = join.on[0] as readonly [string, string];
  return right === expression ? left : undefined;
}
