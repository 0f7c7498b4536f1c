import { sql, type RawBuilder } from 'kysely';
import type { Filter, TimeSpine } from '../catalog/types.ts';
import type { FilterColumn } from './filter-sql.ts';
import type { Relation } from './relation.ts';
import type { TimeColumn } from './time.ts';

/** Compiles a metric query as a subquery (for `Metric(...)` filters), without its row cap. */
export type MetricSubquery = (metric: string, groupBy: readonly string[]) => RawBuilder<unknown>;

/**
 * Reads a custom granularity column of the spine row matching `period` (a join the caller
 * owns); `time` is the time column the period is cut from.
 */
export type CustomGrainLookup = (spine: TimeSpine, customColumn: string, period: RawBuilder<unknown>, time: TimeColumn) => RawBuilder<unknown>;

/** A lookup that LEFT JOINs the spine into a relation, once per spine and time column (by its key). */
export function relationGrainLookup(relation: Relation): CustomGrainLookup {
  const aliases = new Map<string, string>();
  let joins = 0;
  return (spine, customColumn, period, time) => {
    const key = time.key === undefined ? undefined : `${spine.table}|${time.key}`;
    let alias = key === undefined ? undefined : aliases.get(key);
    if (!alias) {
      alias = `${relation.aliasPrefix}cg${joins++}`;
      if (key !== undefined) aliases.set(key, alias);
      relation.addJoin(sql`LEFT JOIN ${sql.table(spine.table)} AS ${sql.id(alias)} ON CAST(${sql.ref(`${alias}.${spine.column}`)} AS timestamp) = ${period}`);
    }
    return sql.ref(`${alias}.${customColumn}`);
  };
}

/**
 * A metric's value for the row's entities: the metric grouped by them, joined on them
 * (NULL without a match), as MetricFlow joins a metric filter's subquery.
 */
export function metricValue(
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
