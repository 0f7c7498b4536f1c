import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { canonicalDimension, concreteRollups, ROLLUP_SCHEMA, type ConcreteRollup } from '../catalog/rollups.ts';
import type { DimensionType } from '../catalog/types.ts';
import { resolveFunnelQuery, type FunnelQuery, type ResolvedFunnelQuery } from '../query/funnel-query.ts';
import type { PlanRollup } from '../query/metric-plan.ts';
import { funnelSql } from '../sql/funnel-sql.ts';
import { nextPeriodStart, periodStart } from '../sql/time.ts';
import type { RollupBuild } from './rollup-build.ts';

/**
 * Funnel rollups: a funnel's answer stored per period of entries and group, exact by
 * construction. A funnel's customers enter once (their first step-1 event in the range),
 * its later steps are searched within the window from that entry (past the range's end),
 * and its medians do not add up; so no count or median of one range is made from another
 * range's rows. The stored rows are the funnel's own statement over exactly one period
 * (the rollup's time grain, one partition each) grouped by exactly the rollup's
 * dimensions, and a funnel query is read from them only when it asks that: the defined
 * funnel unchanged, one whole stored period, the same group-bys, no filter or row scope.
 * Any other funnel query (two months, another grouping, a filter) is answered raw.
 */

const STEP_LIMIT = 1_000_000;

/** The resolved funnel query a funnel rollup stores for one period `[from, to)`. */
function storedQuery(index: CatalogIndex, rollup: ConcreteRollup, range: { from: string; to: string }): ResolvedFunnelQuery {
  return resolveFunnelQuery(index, { funnel: rollup.funnel as string, timeRange: range, groupBy: rollup.dimensions.map((dimension) => ({ dimension })) });
}

/**
 * How a funnel rollup's rows are computed: per period, `period`, the group values (`funnelSql`'s
 * `g<i>`), the customers per step (`c1..cN`) and the median seconds from the previous step
 * (`m2..mN`, double precision as computed). The table is marked stale by new events up to
 * the funnel's window after a period (a later step converts an earlier entry).
 */
export function funnelRollupBuild(index: CatalogIndex, rollup: ConcreteRollup): RollupBuild {
  const sample = storedQuery(index, rollup, { from: '2000-01-01', to: nextPeriodStart('2000-01-01', rollup.timeGrain) });
  const steps = sample.steps.length;
  const counts = Array.from({ length: steps }, (_, i) => `c${i + 1}`);
  const medians = Array.from({ length: steps - 1 }, (_, i) => `m${i + 2}`);
  return {
    rollup,
    columns: [
      { name: 'period', type: 'date' },
      ...rollup.dimensions.map((_, i) => ({ name: rollup.dimensionColumns[i] as string, type: sample.groupBy[i]?.type ?? 'string' })),
      ...counts.map((name) => ({ name, type: 'numeric' as const })),
      ...medians.map((name) => ({ name, type: 'double precision' as const })),
    ],
    models: [{ model: sample.stream.model.name, timeDimension: sample.stream.time.name }],
    lookback: `${Math.ceil(sample.windowHours / 24)} days`,
    definition: { funnel: sample.name, steps: sample.steps, windowHours: sample.windowHours },
    statement: (range) => {
      const query = storedQuery(index, rollup, range);
      const groups = query.groupBy.map((_, i) => sql.ref(`f.g${i}`));
      const values = [...counts, ...medians].map((c) => sql.ref(`f.${c}`));
      return sql`SELECT ${sql.join([sql`CAST(${range.from} AS date) AS period`, ...groups, ...values])} FROM (${funnelSql(index, query, STEP_LIMIT)}) AS f`;
    },
  };
}

/** A funnel query read from a funnel rollup: the stored period and the statement giving `funnelSql`'s columns. */
export interface FunnelRollupRead {
  readonly read: PlanRollup;
  readonly statement: RawBuilder<unknown>;
}

/**
 * The funnel rollup answering `query` exactly, or undefined (raw events answer): the
 * defined funnel with its own steps and window, no filter or scope, group-bys exactly the
 * rollup's dimensions (no time grain), and a range of exactly one stored period.
 */
export function matchFunnelRollup(index: CatalogIndex, input: FunnelQuery, resolved: ResolvedFunnelQuery, limit: number): FunnelRollupRead | undefined {
  if (!resolved.name || input.steps || resolved.where || resolved.scope) return undefined;
  const defined = index.catalog.funnels?.find((f) => f.name === resolved.name);
  if (!defined || resolved.windowHours !== defined.windowHours) return undefined;
  if (resolved.groupBy.some((g) => g.metricTime || g.grain || g.customGrain || g.datePart || g.type === 'time')) return undefined;
  const wanted = resolved.groupBy.map((g) => canonicalDimension(g.text));
  if (new Set(wanted).size !== wanted.length) return undefined;
  const from = dayOf(resolved.timeRange.from);
  const to = dayOf(resolved.timeRange.to);
  if (!from || !to) return undefined;
  for (const rollup of concreteRollups(index.catalog)) {
    if (rollup.funnel !== resolved.name || rollup.dimensions.length !== wanted.length || !wanted.every((d) => rollup.dimensions.includes(d))) continue;
    if (periodStart(from, rollup.timeGrain) !== from || nextPeriodStart(from, rollup.timeGrain) !== to) continue;
    const table = sql.id(ROLLUP_SCHEMA, rollup.table);
    const groups = wanted.map((d, i) => sql`${sql.ref(rollup.dimensionColumns[rollup.dimensions.indexOf(d)] as string)} AS ${sql.id(`g${i}`)}`);
    const steps = resolved.steps.map((_, i) => sql.ref(`c${i + 1}`));
    const medians = resolved.steps.slice(1).map((_, i) => sql.ref(`m${i + 2}`));
    const order = wanted.length > 0 ? sql`ORDER BY ${sql.join(wanted.map((_, i) => sql.id(`g${i}`)))}` : sql``;
    const types = new Map<string, DimensionType>(resolved.groupBy.map((g, i) => [wanted[i] as string, g.type]));
    return {
      read: {
        rollup: rollup.name,
        timeGrain: rollup.timeGrain,
        groupBy: wanted.map((dimension) => ({ kind: 'dimension', dimension })),
        range: { from, to },
        columns: [],
        dimensions: [...types].map(([dimension, type]) => ({ dimension, type })),
      },
      statement: sql`SELECT ${sql.join([...groups, ...steps, ...medians])} FROM ${table} WHERE period = CAST(${from} AS date) ${order} LIMIT ${sql.lit(limit)}`,
    };
  }
  return undefined;
}

/** `YYYY-MM-DD` of a range bound at midnight, or undefined. */
function dayOf(text: string): string | undefined {
  return /^(\d{4}-\d{2}-\d{2})(?:T00:00(?::00(?:\.0+)?)?)?$/.exec(text)?.[1];
}
