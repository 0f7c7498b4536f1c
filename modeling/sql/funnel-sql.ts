import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { DimensionType, Filter } from '../catalog/types.ts';
import { PROPERTY_PREFIX } from '../catalog/validate-funnels.ts';
import type { ResolvedFunnelQuery } from '../query/funnel-query.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import { filterSql, type FilterColumn } from './filter-sql.ts';
import { buildNodeScope, type NodeScope } from './node-scope.ts';

/**
 * One statement answering a funnel, set-based:
 *
 * - `s1`: each customer's entry, the first step-1 event in the time range (its group-by
 *   values read on that event, ties broken by the event's key);
 * - `s<n>`: per customer reaching step n-1, the earliest step-n event strictly after the
 *   step n-1 time and at most `windowHours` after the entry: a correlated `MIN` that the
 *   index on (customer, time) answers by a range probe per customer;
 * - the result: per group, customers per step and the median seconds from the previous step.
 *
 * The earliest match at each step is the greedy choice, and it is optimal: any later
 * occurrence of step n-1 leaves less room for step n within the same window. Each step is
 * `MATERIALIZED`: inlined, step n's probe would re-run every earlier step's.
 * Output columns: `g0..` (groups), `c1..cN` (customers), `m2..mN` (median seconds).
 */
export function funnelSql(index: CatalogIndex, query: ResolvedFunnelQuery, limit: number): RawBuilder<unknown> {
  const { stream } = query;
  const hours = query.windowHours;
  const stepScope = (i: number): { scope: NodeScope; conditions: RawBuilder<unknown>[]; entity: RawBuilder<unknown> } => {
    const first = i === 0;
    const planQuery: PlanQuery = {
      groupBy: first ? query.groupBy : [],
      ...(first ? { timeRange: query.timeRange } : {}),
      orderBy: [],
      offset: 0,
      ...(query.scope ? { scope: query.scope } : {}),
    };
    const scope = buildNodeScope({
      index,
      query: planQuery,
      model: stream.model,
      timeDimension: stream.time.name,
      filters: query.where ? [query.where] : [],
      offsets: [],
      prefix: `f${i}_`,
    });
    const step = query.steps[i];
    if (!step) throw new Error(`funnel invariant: no step ${i}`);
    const entity = scope.relation.baseColumn(stream.entity.sql);
    const types = query.propertyTypes[i] ?? new Map<string, DimensionType>();
    const conditions = [
      sql`${scope.relation.baseColumn(stream.eventName.sql)} = ${step.event}`,
      ...(step.filter ? [stepFilterSql(scope, step.filter, types, stream.properties)] : []),
      ...scope.filters,
      ...(first ? [sql`${entity} IS NOT NULL`, ...scope.timeRange] : []),
    ];
    return { scope, conditions, entity };
  };

  const ctes: RawBuilder<unknown>[] = [];
  const entry = stepScope(0);
  const key = stream.model.primaryKey.map((k) => entry.scope.relation.baseColumn(k));
  const groups = entry.scope.groups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`);
  const entryTime = entry.scope.time.expr;
  ctes.push(
    sql`s1 AS MATERIALIZED (SELECT DISTINCT ON (${entry.entity}) ${sql.join([sql`${entry.entity} AS c`, sql`${entryTime} AS t1`, ...groups])}
      FROM ${entry.scope.relation.from()} WHERE ${sql.join(entry.conditions, sql` AND `)}
      ORDER BY ${sql.join([entry.entity, entryTime, ...key])})`,
  );
  for (let n = 2; n <= query.steps.length; n++) {
    const { scope, conditions, entity } = stepScope(n - 1);
    const prev = sql.ref(`s${n - 1}.t${n - 1}`);
    const time = scope.time.expr;
    const within = [
      sql`${entity} = ${sql.ref(`s${n - 1}.c`)}`,
      sql`${time} > ${prev}`,
      sql`${time} <= ${sql.ref(`s${n - 1}.t1`)} + CAST(${hours} AS integer) * INTERVAL '1 hour'`,
      ...conditions,
    ];
    const probe = sql`(SELECT MIN(${time}) FROM ${scope.relation.from()} WHERE ${sql.join(within, sql` AND `)})`;
    ctes.push(
      sql`${sql.id(`s${n}`)} AS MATERIALIZED (SELECT ${sql.ref(`s${n - 1}`)}.*, CASE WHEN ${prev} IS NOT NULL THEN ${probe} END AS ${sql.id(`t${n}`)} FROM ${sql.id(`s${n - 1}`)})`,
    );
  }
  const last = `s${query.steps.length}`;
  const groupColumns = entry.scope.groups.map((_, i) => sql.ref(`g${i}`));
  const counts = query.steps.map((_, i) => (i === 0 ? sql`COUNT(*) AS c1` : sql`COUNT(${sql.ref(`t${i + 1}`)}) AS ${sql.id(`c${i + 1}`)}`));
  const medians = query.steps
    .slice(1)
    .map(
      (_, j) =>
        sql`percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (${sql.ref(`t${j + 2}`)} - ${sql.ref(`t${j + 1}`)}))) AS ${sql.id(`m${j + 2}`)}`,
    );
  const groupBy = groupColumns.length > 0 ? sql`GROUP BY ${sql.join(groupColumns)} ORDER BY ${sql.join(groupColumns)}` : sql``;
  return sql`WITH ${sql.join(ctes)} SELECT ${sql.join([...groupColumns, ...counts, ...medians])} FROM ${sql.id(last)} ${groupBy} LIMIT ${sql.lit(limit)}`;
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
