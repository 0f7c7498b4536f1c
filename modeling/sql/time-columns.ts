import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Grain } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { GrainChoice } from '../catalog/dimension-ref.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import type { CustomGrainLookup } from './scope-joins.ts';
import { boundFor, customGrainSpine, customGrainValue, localTime, truncate, type TimeColumn } from './time.ts';

/** The coarsest grain metric_time is grouped by: the time range widens to its periods. */
export function metricTimeGrain(query: PlanQuery): Grain | undefined {
  const grains = query.groupBy.filter((g) => g.metricTime && g.grain).map((g) => g.grain as Grain);
  return grains.sort((a, b) => GRAINS.indexOf(b) - GRAINS.indexOf(a))[0];
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
