import { sql, type RawBuilder } from 'kysely';
import { POSTGRES_DIALECT, type SqlDialect } from './dialect.ts';
import type { ConversionMetric, Measure } from '../catalog/types.ts';
import { aggregationSql } from './aggregation-sql.ts';
import { groupByOrdinals, rangeConditions, whereClause, type NodeScope } from './node-scope.ts';
import { interval } from './time.ts';
import type { Relation } from './relation.ts';

export interface ConversionSide {
  readonly scope: NodeScope;
  readonly measure: Measure;
  /** The entity column and raw (unshifted) time column of this side's model. */
  readonly entity: RawBuilder<unknown>;
  readonly time: RawBuilder<unknown>;
  /** Constant properties, in the metric's order: each must be equal on both sides. */
  readonly properties: readonly RawBuilder<unknown>[];
}

/**
 * A conversion metric: opportunities are the base measure over base events (every event, or
 * each entity's first, ever or within the period); each conversion event of the same entity
 * inside the window after a base event is matched to the latest such base event, takes that
 * event's group-by values, and counts once in the conversion measure.
 */
export function conversionNodeSql(
  metric: ConversionMetric,
  base: ConversionSide,
  conversion: ConversionSide & { readonly rowKey: readonly RawBuilder<unknown>[] },
  columns: { readonly opportunities: string; readonly conversions: string },
  anchors?: AnchorPlan,
  dialect: SqlDialect = POSTGRES_DIALECT,
  prior?: PriorBase,
): RawBuilder<unknown> {
  if (anchors && metric.baseEvents !== 'all') return anchoredConversionSql(metric, base, conversion, columns, anchors, dialect, prior);
  const groups = base.scope.groups;
  const groupCols = groups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`);
  const baseValue = valueOf(base.measure, base.scope.relation);
  const ranked = metric.baseEvents === 'first_ever' ? sql`, ROW_NUMBER() OVER (PARTITION BY ${base.entity} ORDER BY ${base.time}) AS rn` : sql``;
  // first_ever ranks every event before the time range applies; the range then keeps the firsts inside it.
  const props = base.properties.map((p, i) => sql`${p} AS ${sql.id(`p${i}`)}`);
  const baseRows = sql`SELECT ${sql.join([...groupCols, sql`${base.entity} AS e`, sql`${base.time} AS t`, sql`${baseValue} AS value`, ...props])}${
    metric.baseEvents === 'first_in_period'
      ? sql`, ROW_NUMBER() OVER (PARTITION BY ${sql.join([base.entity, ...base.scope.periodGroups])} ORDER BY ${base.time}) AS rn`
      : metric.baseEvents === 'first_ever'
        ? sql`, TRUE AS in_range`
        : sql``
  }
    FROM ${base.scope.relation.from()} ${whereClause([...(metric.baseEvents === 'first_ever' ? [] : base.scope.timeRange), ...base.scope.filters])}`;
  const baseEvents =
    metric.baseEvents === 'all'
      ? baseRows
      : metric.baseEvents === 'first_in_period'
        ? sql`SELECT * FROM (${baseRows}) AS ranked WHERE rn = 1`
        : firstEverEvents(base, groupCols, baseValue, ranked);

  const conversionValue = valueOf(conversion.measure, conversion.scope.relation);
  const conversionRows = sql`SELECT ${sql.join([
    sql`${conversion.entity} AS e`,
    sql`${conversion.time} AS t`,
    sql`${conversionValue} AS value`,
    conversion.rowKey.length > 0 ? sql`ROW(${sql.join(conversion.rowKey)}) AS row_key` : sql`ROW_NUMBER() OVER () AS row_key`,
    ...conversion.properties.map((p, i) => sql`${p} AS ${sql.id(`p${i}`)}`),
  ])} FROM ${conversion.scope.relation.from()} ${whereClause([...conversion.scope.filters])}`;
  const bGroups = groups.map((_, i) => sql.ref(`b.g${i}`));
  const sameProperties =
    base.properties.length === 0
      ? sql``
      : sql` AND ${sql.join(
          base.properties.map((_, i) => sql`${sql.ref(`b.p${i}`)} = ${sql.ref(`c.p${i}`)}`),
          sql` AND `,
        )}`;
  // Every base event: each conversion counts once, for the latest base event before it
  // (MetricFlow). Firsts (ever, or per period) are anchors: each anchor converts or not,
  // judged on its own, so one later event may convert the anchors of two periods.
  const perAnchor = metric.baseEvents !== 'all';
  const matched = sql`SELECT DISTINCT ON (${perAnchor ? sql`b.e, b.t` : sql`c.row_key`}) ${sql.join([...bGroups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`), sql`c.value AS value`])}
    FROM base_events AS b JOIN conversion_events AS c ON c.e = b.e AND ${windowCondition(metric)}${sameProperties}
    ORDER BY ${perAnchor ? sql`b.e, b.t, c.t` : sql`c.row_key, b.t DESC`}`;

  const outGroups = groups.map((_, i) => sql.id(`g${i}`));
  const opportunities = aggregationSql(base.measure, base.measure.sql === '*' ? null : sql.ref('value'));
  const conversions = aggregationSql(conversion.measure, conversion.measure.sql === '*' ? null : sql.ref('value'));
  const part = (source: string, aggregate: RawBuilder<unknown>, opportunitiesFirst: boolean) =>
    sql`SELECT ${sql.join([
      ...outGroups,
      opportunitiesFirst ? sql`${aggregate} AS o` : sql`CAST(NULL AS numeric) AS o`,
      opportunitiesFirst ? sql`CAST(NULL AS numeric) AS c` : sql`${aggregate} AS c`,
    ])} FROM ${sql.table(source)} ${groupByOrdinals(groups.length)}`;
  const finalSelect = [
    ...outGroups,
    sql`MAX(o) AS ${sql.id(columns.opportunities)}`,
    metric.window.sameTimeCounts ? sql`MAX(c) AS ${sql.id(columns.conversions)}` : sql`COALESCE(MAX(c), 0) AS ${sql.id(columns.conversions)}`,
  ];
  return sql`WITH base_events AS (${baseEvents}), conversion_events AS (${conversionRows}), matched AS (${matched})
    SELECT ${sql.join(finalSelect)} FROM (${part('base_events', opportunities, true)} UNION ALL ${part('matched', conversions, false)}) AS parts
    ${groupByOrdinals(groups.length)}`;
}

/**
 * When a conversion counts for a base event: Strata's default is after it, within (min, max];
 * MetricFlow's (`sameTimeCounts`) is at or after it and before the window ends.
 */
/** Whether conversion `c` falls within the metric's window after base event `base` (alias `b` unless named). */
function windowCondition(metric: ConversionMetric, base = 'b'): RawBuilder<unknown> {
  const { min, max, sameTimeCounts } = metric.window;
  const t = sql.raw(`${base === 'b' ? 'b' : 'a'}.t`);
  if (sameTimeCounts) {
    const upper = max ? sql` AND ${t} > c.t - ${interval(max)}` : sql``;
    return sql`c.t >= ${t}${min ? sql` + ${interval(min)}` : sql``}${upper}`;
  }
  const lowerGap = min ? sql` + ${interval(min)}` : sql``;
  const upper = max ? sql` AND c.t <= ${t} + ${interval(max)}` : sql``;
  return sql`c.t > ${t}${lowerGap}${upper}`;
}

function valueOf(measure: Measure, relation: Relation): RawBuilder<unknown> {
  return measure.sql === '*' ? sql`1` : relation.baseColumn(measure.sql);
}

function firstEverEvents(base: ConversionSide, groupCols: RawBuilder<unknown>[], value: RawBuilder<unknown>, ranked: RawBuilder<unknown>): RawBuilder<unknown> {
  const all = sql`SELECT ${sql.join([...groupCols, sql`${base.entity} AS e`, sql`${base.time} AS t`, sql`${value} AS value`])}${ranked},
    ${base.scope.timeRange.length > 0 ? sql.join(base.scope.timeRange, sql` AND `) : sql`TRUE`} AS in_range
    FROM ${base.scope.relation.from()} ${whereClause([...base.scope.filters])}`;
  return sql`SELECT * FROM (${all}) AS ranked WHERE rn = 1 AND in_range`;
}

/**
 * The base events again, under their own aliases, for first-ever anchors read within the
 * time range: an entity's first event ever falls in the range when it has one there and
 * none before the range starts (what `NOT EXISTS` over these rows asks, per entity).
 */
export interface PriorBase {
  readonly scope: NodeScope;
  readonly entity: RawBuilder<unknown>;
}

/**
 * HAVING conditions of a first-ever anchor group read from `from` on: no base event of the
 * same entity before `from` (a NULL entity groups its NULL rows, probed apart so the
 * equality stays an index or hash condition).
 */
function priorConditions(entity: RawBuilder<unknown>, prior: PriorBase, from: string): RawBuilder<unknown>[] {
  const before = rangeConditions(prior.scope.time, { to: from });
  const earlier = (match: RawBuilder<unknown>) =>
    sql`NOT EXISTS (SELECT 1 FROM ${prior.scope.relation.from()} ${whereClause([match, ...before, ...prior.scope.filters])})`;
  // MIN(entity) keeps the NULL test in HAVING (per group, not per row pushed down), so the
  // probe for earlier NULL rows runs only for a NULL group.
  return [earlier(sql`${prior.entity} = ${entity}`), sql`(MIN(${entity}) IS NOT NULL OR ${earlier(sql`${prior.entity} IS NULL`)})`];
}

/** How a base group-by relates to an anchor: fixed by its entity, a plain grain of its time, or another period of it. */
export type AnchorGroup = 'entity' | 'grain' | 'period';

/**
 * When each anchor (an entity's first base event, ever or in the period) can be found by
 * aggregation instead of ranking every event: every group-by is fixed by the entity or
 * derived from the event time, and both measures count the entity (or rows).
 */
export interface AnchorPlan {
  /** Per base group-by; `grain` is monotonic in time, so the first event's period is the least period. */
  readonly groups: readonly AnchorGroup[];
  /** What each measure counts: the entity column, or rows (`*`). */
  readonly baseValue: 'entity' | 'one';
  readonly conversionValue: 'entity' | 'one';
  /** Names of the entity and time columns in the base table's sub-select. */
  readonly columns: { readonly entity: string; readonly time: string };
}

/**
 * Conversions of anchors found by `GROUP BY entity` (`MIN(time)`) over the base events,
 * filtered as usual, before any dimension is joined: the anchors then take the base table's
 * place in the joins that give the group-bys, and each is tested for a conversion with a
 * correlated `EXISTS` that an index on (entity, time) answers. Same result as the ranked
 * form: anchors are one per entity within an output group, so a distinct count of the
 * entity is a plain count.
 */
function anchoredConversionSql(
  metric: ConversionMetric,
  base: ConversionSide,
  conversion: ConversionSide,
  columns: { readonly opportunities: string; readonly conversions: string },
  plan: AnchorPlan,
  dialect: SqlDialect,
  prior?: PriorBase,
): RawBuilder<unknown> {
  const firstEver = metric.baseEvents === 'first_ever';
  const { scope } = base;
  // first_in_period anchors are per period; first_ever anchors per entity, kept when their time is in range.
  const periods = firstEver ? [] : scope.groups.filter((_, i) => plan.groups[i] !== 'entity');
  // With the prior events (PostgreSQL), only the range's rows are read (its partitions) and
  // each entity found there is probed for an earlier event; without, every event is ranked.
  const bounded = firstEver && prior !== undefined && dialect.supportsCorrelatedSubqueryWithCte;
  const having =
    firstEver && !bounded
      ? rangeConditions({ ...scope.time, expr: sql`MIN(${scope.time.expr})` }, scope.range)
      : bounded && prior && scope.range.from
        ? priorConditions(base.entity, prior, scope.range.from)
        : [];
  const anchors = sql`(SELECT ${base.entity} AS ${sql.id(plan.columns.entity)}, MIN(${base.time}) AS ${sql.id(plan.columns.time)}
    FROM ${scope.relation.from()} ${whereClause([...(firstEver && !bounded ? [] : scope.timeRange), ...scope.filters])}
    GROUP BY ${sql.join([base.entity, ...periods])}${having.length > 0 ? sql` HAVING ${sql.join(having, sql` AND `)}` : sql``})`;
  const anchored = sql`SELECT ${sql.join([...scope.groups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`), sql`${base.entity} AS e`, sql`${base.time} AS t`])}
    FROM ${scope.relation.from({ source: anchors, columns: new Set([plan.columns.entity, plan.columns.time]) })}`;

  const conversionRows = sql`SELECT ${sql.join([sql`${conversion.entity} AS e`, sql`${conversion.time} AS t`])}
    FROM ${conversion.scope.relation.from()} ${whereClause([...conversion.scope.filters])}`;
  const value = (kind: AnchorPlan['baseValue']) => (kind === 'entity' ? sql.ref('b.e') : sql`1`);
  const counted = (measure: Measure): Measure => (measure.aggregation === 'count_distinct' ? { ...measure, aggregation: 'count' } : measure);
  const aggregates = (converted: RawBuilder<unknown>) => [
    ...scope.groups.map((_, i) => sql`${sql.ref(`b.g${i}`)} AS ${sql.id(`g${i}`)}`),
    sql`${aggregationSql(counted(base.measure), value(plan.baseValue))} AS ${sql.id(columns.opportunities)}`,
    sql`${aggregationSql(counted(conversion.measure), sql`CASE WHEN ${converted} THEN ${value(plan.conversionValue)} END`)} AS ${sql.id(columns.conversions)}`,
  ];
  if (dialect.supportsCorrelatedSubqueryWithCte) {
    const converted = sql`EXISTS (SELECT 1 FROM (${conversionRows}) AS c WHERE c.e = b.e AND ${windowCondition(metric)})`;
    return sql`SELECT ${sql.join(aggregates(converted))} FROM (${anchored}) AS b ${groupByOrdinals(scope.groups.length)}`;
  }
  // Uncorrelated: each anchor joined to its conversions within the window, collapsed back to
  // one row per anchor (its groups, entity and time) that says whether any converted.
  const anchorColumns = [...scope.groups.map((_, i) => sql.ref(`a.g${i}`)), sql.ref('a.e'), sql.ref('a.t')];
  const tested = sql`SELECT ${sql.join([...scope.groups.map((_, i) => sql`${sql.ref(`a.g${i}`)} AS ${sql.id(`g${i}`)}`), sql`a.e AS e`, sql`a.t AS t`, sql`bool_or(c.e IS NOT NULL) AS converted`])}
    FROM (${anchored}) AS a LEFT JOIN (${conversionRows}) AS c ON c.e = a.e AND ${windowCondition(metric, 'a')}
    GROUP BY ${sql.join(anchorColumns)}`;
  return sql`SELECT ${sql.join(aggregates(sql.ref('b.converted')))} FROM (${tested}) AS b ${groupByOrdinals(scope.groups.length)}`;
}
