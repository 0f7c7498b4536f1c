import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Duration, Grain, TimeSpine } from '../catalog/types.ts';
import { StrataError } from '../errors.ts';
import { GRAINS } from '../catalog/types.ts';
import type { Relation } from './relation.ts';
import { customGrainSpine, interval, localTime, spineFor, type TimeColumn } from './time.ts';

/** A shift of a metric input in time: a window (`7 days` later), to the start of a grain's period, or by custom periods. */
export type TimeOffset = Duration | { readonly toGrain: Grain } | { readonly customGrain: string; readonly count: number };

/** Where a spine period `period` reads its value from, for offsets listed outermost first. */
export function offsetSource(period: RawBuilder<unknown>, offsets: readonly TimeOffset[]): RawBuilder<unknown> {
  return offsets.reduce<RawBuilder<unknown>>((expr, offset) => {
    if ('customGrain' in offset)
      throw new StrataError('INVALID_QUERY', `an offset of ${offset.count} ${offset.customGrain} cannot be combined with other offsets or windows`);
    return 'toGrain' in offset ? sql`date_trunc(${sql.lit(offset.toGrain.toLowerCase())}, ${expr})` : sql`(${expr} - ${interval(offset)})`;
  }, period);
}

/**
 * For a shift by `count` periods of a custom granularity: each spine day (`src`) and the day
 * it moves to (`dst`), the day at the same position in the period `count` periods later,
 * or that period's last day when it is shorter (MetricFlow's semantics).
 */
function customShiftMap(spine: TimeSpine, customColumn: string, count: number): RawBuilder<unknown> {
  const day = sql.ref(`s.${spine.column}`);
  const period = sql.ref(`s.${customColumn}`);
  const positions = sql`SELECT CAST(${day} AS timestamp) AS src, ${period} AS period, ROW_NUMBER() OVER (PARTITION BY ${period} ORDER BY ${day}) AS pos FROM ${sql.table(spine.table)} AS s`;
  const bounds = sql`SELECT ${period} AS period, CAST(MIN(${day}) AS timestamp) AS first_day, CAST(MAX(${day}) AS timestamp) AS last_day FROM ${sql.table(spine.table)} AS s GROUP BY 1`;
  const shifted = sql`SELECT period, LEAD(first_day, ${sql.lit(count)}) OVER (ORDER BY period) AS first_next, LEAD(last_day, ${sql.lit(count)}) OVER (ORDER BY period) AS last_next FROM (${bounds}) AS b`;
  const target = sql`p.first_next + (c.pos - 1) * interval '1 day'`;
  return sql`SELECT c.src, CASE WHEN ${target} <= p.last_next THEN ${target} ELSE p.last_next END AS dst FROM (${positions}) AS c JOIN (${shifted}) AS p ON p.period = c.period`;
}

export interface ShiftInput {
  readonly index: CatalogIndex;
  readonly relation: Relation;
  readonly rawTime: TimeColumn;
  /** The time dimension's own grain: the spine of that grain carries the shift. */
  readonly grain: Grain;
  readonly offsets: readonly TimeOffset[];
  /** The query's metric_time grains: an offset to a grain is read at the start of each period of one of them. */
  readonly queryGrains: readonly Grain[];
}

/**
 * The time of a shifted input. With a time spine (MetricFlow's semantics), every spine
 * period takes the rows of the period its offsets point to (`ds - 7 days`, or
 * `date_trunc('month', ds)`), so a month offset on the 31st reads the last day of the
 * month before; an offset to a grain queried at a coarser grain is read at the start of
 * each queried period. Without a spine, rows are moved later by the window.
 */
export function shiftedTime(input: ShiftInput): TimeColumn {
  const { index, relation, rawTime, offsets } = input;
  if (offsets.length === 0) return rawTime;
  const custom = offsets.find((o): o is { customGrain: string; count: number } => 'customGrain' in o);
  if (custom) {
    if (offsets.length > 1)
      throw new StrataError('INVALID_QUERY', `an offset of ${custom.count} ${custom.customGrain} cannot be combined with other offsets or windows`);
    const found = customGrainSpine(index.catalog, custom.customGrain);
    if (!found) throw new Error(`catalog invariant: no custom granularity '${custom.customGrain}'`);
    const alias = `${relation.aliasPrefix}cs`;
    const rowDay = sql`CAST(date_trunc(${sql.lit(found.spine.grain.toLowerCase())}, ${localTime(rawTime)}) AS timestamp)`;
    relation.addJoin(
      sql`INNER JOIN (${customShiftMap(found.spine, found.column, custom.count)}) AS ${sql.id(alias)} ON ${sql.ref(`${alias}.src`)} = ${rowDay}`,
    );
    return { expr: sql.ref(`${alias}.dst`), storage: 'timestamp', timeZone: rawTime.timeZone };
  }
  const spine = spineFor(index.catalog, input.grain);
  if (!spine) {
    const moved = offsets.reduce<RawBuilder<unknown>>((expr, offset) => {
      if (!('grain' in offset)) throw new Error('catalog invariant: an offset to a grain or custom period needs a time spine');
      return sql`(${expr} + ${interval(offset)})`;
    }, localTime(rawTime));
    return { expr: moved, storage: 'timestamp', timeZone: rawTime.timeZone };
  }
  const alias = `${relation.aliasPrefix}ts`;
  const period = sql`CAST(${sql.ref(`${alias}.${spine.column}`)} AS timestamp)`;
  const rowPeriod = sql`CAST(date_trunc(${sql.lit(spine.grain.toLowerCase())}, ${localTime(rawTime)}) AS timestamp)`;
  const conditions = [sql`${rowPeriod} = ${offsetSource(period, offsets)}`];
  // Queried at coarser grains, an offset to a grain is read on the first spine period of
  // each queried period: a spine period that starts a period of any queried grain (MetricFlow).
  const grains = input.queryGrains;
  if (grains.length > 0 && offsets.some((o) => 'toGrain' in o) && grains.every((g) => GRAINS.indexOf(g) > GRAINS.indexOf(spine.grain))) {
    const starts = grains.map((g) => sql`date_trunc(${sql.lit(g.toLowerCase())}, ${period}) = ${period}`);
    conditions.push(starts.length === 1 ? (starts[0] as RawBuilder<unknown>) : sql`(${sql.join(starts, sql` OR `)})`);
  }
  relation.addJoin(sql`INNER JOIN ${sql.table(spine.table)} AS ${sql.id(alias)} ON ${sql.join(conditions, sql` AND `)}`);
  return { expr: period, storage: 'timestamp', timeZone: rawTime.timeZone };
}
