import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { DimensionType, Filter } from '../catalog/types.ts';
import { PROPERTY_PREFIX } from '../catalog/validate-funnels.ts';
import type { ResolvedFunnelQuery } from '../query/funnel-query.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import { filterSql, type FilterColumn } from './filter-sql.ts';
import { buildNodeScope, type NodeScope } from './node-scope.ts';
import { boundFor } from './time.ts';
import { anchorGroup } from './conversion-sql.ts';
import { locateDimension } from '../catalog/locate-dimension.ts';

/**
 * One statement answering a funnel, set-based (every step a hash join, no probe per customer):
 *
 * - `s1`: each customer's entry, the first step-1 event in the time range (its group-by
 *   values read on that event, ties broken by the event's key);
 * - `ev`: the later steps' events, read in one pass: from the range's start to its end plus
 *   the window, bounds on the raw time column so that only those months' partitions (of a
 *   table partitioned by time) are read, with a flag `k<n>` per step the event matches;
 * - `s<n>`: per customer reaching step n-1, the earliest step-n event strictly after the
 *   step n-1 time and at most `windowHours` after the entry: `s<n-1>` joined to `ev` on
 *   the customer (a hash join over the two sets), the minimum per customer;
 * - the result: `s1` left-joined to every later step, per group the customers per step and
 *   the median seconds from the previous step.
 *
 * The earliest match at each step is the greedy choice, and it is optimal: any later
 * occurrence of step n-1 leaves less room for step n within the same window.
 * Output columns: `g0..` (groups), `c1..cN` (customers), `m2..mN` (median seconds).
 */
export function funnelSql(index: CatalogIndex, query: ResolvedFunnelQuery, limit: number): RawBuilder<unknown> {
  const { stream } = query;
  const hours = query.windowHours;
  const window = sql`CAST(${hours} AS integer) * INTERVAL '1 hour'`;
  const scopeOf = (prefix: string, groupBy: PlanQuery['groupBy']): NodeScope =>
    buildNodeScope({
      index,
      query: { groupBy, timeRange: query.timeRange, orderBy: [], offset: 0, ...(query.scope ? { scope: query.scope } : {}) },
      model: stream.model,
      timeDimension: stream.time.name,
      filters: query.where ? [query.where] : [],
      offsets: [],
      prefix,
    });
  const stepCondition = (scope: NodeScope, i: number): RawBuilder<unknown> => {
    const step = query.steps[i];
    if (!step) throw new Error(`funnel invariant: no step ${i}`);
    const types = query.propertyTypes[i] ?? new Map<string, DimensionType>();
    const name = sql`${scope.relation.baseColumn(stream.eventName.sql)} = ${step.event}`;
    return step.filter ? sql`(${name} AND ${stepFilterSql(scope, step.filter, types, stream.properties)})` : name;
  };

  const ctes: RawBuilder<unknown>[] = [];
  const entry = scopeOf('f0_', query.groupBy);
  const entryEntity = entry.relation.baseColumn(stream.entity.sql);
  const key = stream.model.primaryKey.map((k) => entry.relation.baseColumn(k));
  const groups = entry.groups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`);
  const entryTime = entry.time.expr;
  if (entryFixedGroups(index, query, entry.isPeriod)) {
    // Every group-by is fixed by the customer or read from the entry's time: each
    // customer's entry is its earliest step-1 event (a hash aggregate over that event's
    // rows, which the index on (event name, time) holds), and the groups are joined to the
    // entries afterwards instead of to every step-1 event. Ties on the time pick the same
    // customer and time, so the same values as the ordered form.
    const first = scopeOf('fa_', []);
    const firstEntity = first.relation.baseColumn(stream.entity.sql);
    const entityName = entry.relation.baseColumnName(stream.entity.sql);
    const timeName = entry.relation.baseColumnName(stream.time.sql);
    const firstConditions = [stepCondition(first, 0), ...first.filters, sql`${firstEntity} IS NOT NULL`, ...first.timeRange];
    const entries = sql`(SELECT ${firstEntity} AS ${sql.id(entityName)}, MIN(${first.time.expr}) AS ${sql.id(timeName)}
      FROM ${first.relation.from()} WHERE ${sql.join(firstConditions, sql` AND `)} GROUP BY ${firstEntity})`;
    ctes.push(
      sql`s1 AS MATERIALIZED (SELECT ${sql.join([sql`${entryEntity} AS c`, sql`${entryTime} AS t1`, ...groups])}
      FROM ${entry.relation.from({ source: entries, columns: new Set([entityName, timeName]) })})`,
    );
  } else {
    const entryConditions = [stepCondition(entry, 0), ...entry.filters, sql`${entryEntity} IS NOT NULL`, ...entry.timeRange];
    ctes.push(
      sql`s1 AS MATERIALIZED (SELECT DISTINCT ON (${entryEntity}) ${sql.join([sql`${entryEntity} AS c`, sql`${entryTime} AS t1`, ...groups])}
      FROM ${entry.relation.from()} WHERE ${sql.join(entryConditions, sql` AND `)}
      ORDER BY ${sql.join([entryEntity, entryTime, ...key])})`,
    );
  }
  // The later steps' events in one pass: from the range's start up to its end plus the
  // window (bounds on the raw time, so partitions prune), a flag per step.
  const later = scopeOf('fe_', []);
  const time = later.time;
  const flags = query.steps.slice(1).map((_, j) => stepCondition(later, j + 1));
  const eventConditions = [
    flags.length === 1 ? (flags[0] as RawBuilder<unknown>) : sql`(${sql.join(flags, sql` OR `)})`,
    ...later.filters,
    sql`${later.relation.baseColumn(stream.entity.sql)} IS NOT NULL`,
    ...(later.range.from ? [sql`${time.expr} > ${boundFor(time, later.range.from)}`] : []),
    ...(later.range.to ? [sql`${time.expr} < ${boundFor(time, later.range.to)} + ${window}`] : []),
  ];
  const laterColumns = [
    sql`${later.relation.baseColumn(stream.entity.sql)} AS c`,
    sql`${time.expr} AS t`,
    ...flags.map((f, j) => sql`${f} AS ${sql.id(`k${j + 2}`)}`),
  ];
  ctes.push(sql`ev AS MATERIALIZED (SELECT ${sql.join(laterColumns)} FROM ${later.relation.from()} WHERE ${sql.join(eventConditions, sql` AND `)})`);
  for (let n = 2; n <= query.steps.length; n++) {
    const prev = sql.ref(`p.t${n - 1}`);
    const carried = n === 2 ? [sql.ref('p.t1')] : [sql.ref('p.t1'), prev];
    ctes.push(
      sql`${sql.id(`s${n}`)} AS MATERIALIZED (SELECT ${sql.join([sql.ref('p.c'), ...carried, sql`MIN(${sql.ref('e.t')}) AS ${sql.id(`t${n}`)}`])}
        FROM ${sql.id(`s${n - 1}`)} AS p JOIN ev AS e ON ${sql.ref('e.c')} = ${sql.ref('p.c')} AND ${sql.ref(`e.k${n}`)} AND ${sql.ref('e.t')} > ${prev} AND ${sql.ref('e.t')} <= ${sql.ref('p.t1')} + ${window}
        GROUP BY ${sql.join([sql.ref('p.c'), ...carried])})`,
    );
  }
  const joins = query.steps.slice(1).map((_, j) => {
    const n = j + 2;
    return sql`LEFT JOIN ${sql.id(`s${n}`)} ON ${sql.ref(`s${n}.c`)} = ${sql.ref('s1.c')}`;
  });
  const at = (n: number) => sql.ref(`s${n}.t${n}`);
  const groupColumns = entry.groups.map((_, i) => sql.ref(`s1.g${i}`));
  const counts = query.steps.map((_, i) => (i === 0 ? sql`COUNT(*) AS c1` : sql`COUNT(${at(i + 1)}) AS ${sql.id(`c${i + 1}`)}`));
  const medians = query.steps
    .slice(1)
    .map((_, j) => sql`percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (${at(j + 2)} - ${at(j + 1)}))) AS ${sql.id(`m${j + 2}`)}`);
  const selectGroups = groupColumns.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`);
  const groupBy = groupColumns.length > 0 ? sql`GROUP BY ${sql.join(groupColumns)} ORDER BY ${sql.join(groupColumns)}` : sql``;
  return sql`WITH ${sql.join(ctes)} SELECT ${sql.join([...selectGroups, ...counts, ...medians])} FROM s1 ${sql.join(joins, sql` `)} ${groupBy} LIMIT ${sql.lit(limit)}`;
}

/** A step filter: dimensions through the node scope, `property.<name>` read from the properties column as its declared type. */
function stepFilterSql(scope: NodeScope, filter: Filter, types: ReadonlyMap<string, DimensionType>, properties: string | undefined): RawBuilder<unknown> {
  return filterSql(filter, {
    column: (ref: string): FilterColumn => {
      if (!ref.startsWith(PROPERTY_PREFIX)) return scope.column(ref);
      const name = ref.slice(PROPERTY_PREFIX.length);
      const type = types.get(name);
      if (!properties || !type) throw new Error(`funnel invariant: property '${name}' was not resolved`);
      const text = sql`(${scope.relation.baseColumn(properties)} ->> ${name})`;
      if (type === 'number') return { expr: sql`CAST(${text} AS numeric)`, type };
      if (type === 'boolean') return { expr: sql`CAST(${text} AS boolean)`, type };
      return { expr: text, type: 'string' };
    },
  });
}

/**
 * Whether every group-by of a funnel is fixed by the customer (a dimension reached through
 * many-to-one joins on the entity, none with a validity window) or derived from the event
 * time (not a custom granularity, which joins the spine): then an entry's group values are
 * the same on every step-1 event of the customer at the entry's time.
 */
function entryFixedGroups(index: CatalogIndex, query: ResolvedFunnelQuery, isPeriod: readonly boolean[]): boolean {
  const { model, entity } = query.stream;
  return query.groupBy.every((g, i) => {
    if (g.customGrain) return false;
    const kind = anchorGroup(index, model, entity.sql, g, isPeriod[i] === true);
    if (kind === 'grain' || kind === 'period') return true;
    if (kind !== 'entity' || g.ref.kind === 'metric_time') return false;
    const found = locateDimension(index, model, g.ref);
    return found.ok && found.located.steps.every((step) => index.model(step.join.model).validity === undefined);
  });
}
