import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { concreteRollups, ROLLUP_SCHEMA, type ConcreteRollup } from '../catalog/rollups.ts';
import type { PlanRollup, PlanRollupColumn } from '../query/metric-plan.ts';
import { filterSql } from './filter-sql.ts';
import { groupByOrdinals, whereClause } from './sql-helpers.ts';
import { localTime } from './time.ts';

/** The stored rollup a plan reads (by its name in the catalog). */
export function storedRollup(index: CatalogIndex, name: string): ConcreteRollup {
  const rollup = concreteRollups(index.catalog).find((r) => r.name === name);
  if (!rollup) throw new Error(`plan invariant: no rollup '${name}' in the catalog`);
  return rollup;
}

/**
 * The rows of a rollup read back at the query's grain: stored periods in the range, the
 * filters over stored dimensions, each value re-aggregated as the plan says (semi-additive
 * values at the last or first stored day with data of each output period, chosen after
 * the filters as raw reads choose them). A group appears when some value it reads has a
 * stored row (as a raw group appears when some node has rows); without group-bys there is
 * one row, as raw.
 */
export function rollupReadSql(index: CatalogIndex, read: PlanRollup): RawBuilder<unknown> {
  const rollup = storedRollup(index, read.rollup);
  const dimensionColumn = (dimension: string) => {
    const i = rollup.dimensions.indexOf(dimension);
    if (i < 0) throw new Error(`plan invariant: rollup '${rollup.name}' has no dimension '${dimension}'`);
    return sql.ref(`r.${rollup.dimensionColumns[i]}`);
  };
  const valueColumn = (c: PlanRollupColumn) => {
    const leaf = rollup.leaves.find((l) => l.metric === c.leaf);
    const name = c.part === 'opportunities' ? leaf?.opportunities : leaf?.column;
    if (!name) throw new Error(`plan invariant: rollup '${rollup.name}' stores no '${c.leaf}'`);
    return sql.ref(`r.${name}`);
  };
  const period = sql.ref('r.period');
  const groups = read.groupBy.map((g) => {
    if (g.kind === 'dimension') return dimensionColumn(g.dimension);
    return g.grain === read.timeGrain ? period : sql`CAST(date_trunc(${sql.lit(g.grain.toLowerCase())}, CAST(${period} AS timestamp)) AS date)`;
  });
  const timeGroups = groups.filter((_, i) => read.groupBy[i]?.kind === 'time');
  const types = new Map(read.dimensions.map((d) => [d.dimension, d.type]));
  const conditions = [
    ...(read.range.from ? [sql`${period} >= CAST(${read.range.from} AS date)`] : []),
    ...(read.range.to ? [sql`${period} < CAST(${read.range.to} AS date)`] : []),
    ...(read.where
      ? [
          filterSql(read.where, {
            column: (ref) => ({ expr: dimensionColumn(ref), type: types.get(ref) ?? 'string' }),
          }),
        ]
      : []),
  ];
  const table = sql`${sql.id(ROLLUP_SCHEMA, rollup.table)} AS r`;
  const chosen = (i: number) => sql.ref(`r.chosen_${i}`);
  const picks = read.columns.flatMap((c, i) => {
    if (c.reaggregate !== 'last' && c.reaggregate !== 'first') return [];
    const over = timeGroups.length > 0 ? sql`OVER (PARTITION BY ${sql.join(timeGroups)})` : sql`OVER ()`;
    const fn = c.reaggregate === 'last' ? sql`MAX` : sql`MIN`;
    return [sql`${fn}(${period}) FILTER (WHERE ${valueColumn(c)} IS NOT NULL) ${over} AS ${sql.id(`chosen_${i}`)}`];
  });
  const from = picks.length > 0 ? sql`(SELECT r.*, ${sql.join(picks)} FROM ${table} ${whereClause(conditions)}) AS r` : table;
  const rows = picks.length > 0 ? sql`` : whereClause(conditions);
  const values = read.columns.map((c, i) => {
    const v = valueColumn(c);
    const at = c.reaggregate === 'last' || c.reaggregate === 'first' ? sql` FILTER (WHERE ${period} = ${chosen(i)})` : sql``;
    const aggregate = c.reaggregate === 'min' ? sql`MIN(${v})` : c.reaggregate === 'max' || c.reaggregate === 'exact' ? sql`MAX(${v})` : sql`SUM(${v})${at}`;
    return sql`${c.zeroIfEmpty ? sql`COALESCE(${aggregate}, 0)` : aggregate} AS ${sql.id(c.column)}`;
  });
  const present = read.columns.map((c, i) =>
    c.reaggregate === 'last' || c.reaggregate === 'first'
      ? sql`COUNT(${valueColumn(c)}) FILTER (WHERE ${period} = ${chosen(i)}) > 0`
      : sql`COUNT(${valueColumn(c)}) > 0`,
  );
  const select = [...groups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`), ...values];
  const having = groups.length > 0 ? sql`HAVING ${sql.join(present, sql` OR `)}` : sql``;
  return sql`SELECT ${sql.join(select)} FROM ${from} ${rows} ${groupByOrdinals(groups.length)} ${having}`;
}

/** The first and last local day of a model's time dimension (bounds of a rollup's partitions). */
export function timeBoundsSql(index: CatalogIndex, modelName: string, timeDimension: string): RawBuilder<{ lo: string | null; hi: string | null }> {
  const model = index.model(modelName);
  const dimension = model.dimensions.find((d) => d.name === timeDimension);
  if (!dimension) throw new Error(`catalog invariant: no time dimension '${timeDimension}' on '${modelName}'`);
  const from = 'table' in model.source ? sql.table(model.source.table) : sql`(${sql.raw(model.source.sql)})`;
  const column = sql.ref(`t.${dimension.sql}`);
  const day = (value: RawBuilder<unknown>) =>
    sql`to_char(CAST(${localTime({ expr: value, storage: dimension.storage ?? 'timestamptz', timeZone: model.timeZone })} AS date), 'YYYY-MM-DD')`;
  return sql<{ lo: string | null; hi: string | null }>`SELECT ${day(sql`MIN(${column})`)} AS lo, ${day(sql`MAX(${column})`)} AS hi FROM ${from} AS t`;
}
