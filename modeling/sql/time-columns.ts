import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Grain } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { GrainChoice } from '../catalog/dimension-ref.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import type { CustomGrainLookup } from './scope-joins.ts';
import { boundFor, customGrainSpine, customGrainValue, localTime, nextPeriodStart, periodStart, truncate, widenToGrain, type TimeColumn } from './time.ts';

/** The coarsest grain metric_time is grouped by. */
export function metricTimeGrain(query: PlanQuery): Grain | undefined {
  return metricTimeGrains(query)[0];
}

/** Every plain grain metric_time is grouped by, coarsest first. */
export function metricTimeGrains(query: PlanQuery): Grain[] {
  const grains = query.groupBy.filter((g) => g.metricTime && g.grain).map((g) => g.grain as Grain);
  return [...new Set(grains)].sort((a, b) => GRAINS.indexOf(b) - GRAINS.indexOf(a));
}

/** The query's time range widened to whole periods of its range grain (see `ResolvedQuery.timeRangeGrain`). */
export function widenedRange(query: PlanQuery): { from?: string; to?: string } {
  return widenToGrain(query.timeRange ?? {}, query.timeRangeGrain);
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
    const value = lookup(found.spine, found.column, period, time);
    return { expr: date ? sql`CAST(${value} AS date)` : sql`CAST(${value} AS timestamp)`, date };
  }
  if (grain.grain) return { expr: truncate(time, grain.grain), date: GRAINS.indexOf(grain.grain) >= GRAINS.indexOf('DAY') };
  return undefined;
}

/** `time >= from AND time < to`, as far as the range is given. */
export function rangeConditions(time: TimeColumn, range: { from?: string; to?: string }): RawBuilder<unknown>[] {
  return [...(range.from ? [sql`${time.expr} >= ${boundFor(time, range.from)}`] : []), ...(range.to ? [sql`${time.expr} < ${boundFor(time, range.to)}`] : [])];
}

/** Most periods a statement is split into (ten years of months, two of weeks). */
const MAX_SPLIT_PERIODS = 120;

/** The periods of `grain` covering a range of whole periods (dates); none when unbounded or too many. */
export function periodsOf(range: { from?: string; to?: string }, grain: Grain): { from: string; to: string }[] {
  const { from, to } = range;
  if (!from || !to || from.length !== 10 || to.length !== 10 || periodStart(from, grain) !== from) return [];
  const periods: { from: string; to: string }[] = [];
  for (let start = from; start < to; start = nextPeriodStart(start, grain)) {
    if (periods.length >= MAX_SPLIT_PERIODS) return [];
    const next = nextPeriodStart(start, grain);
    // The last period ends with the range (dates compare as text).
    periods.push({ from: start, to: next });
    if (next > to) periods[periods.length - 1] = { from: start, to };
  }
  return periods;
}
