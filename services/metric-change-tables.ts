import type { Kysely } from 'kysely';
import { mapBounded } from './bounded-concurrency.ts';
import type { CountedResult, QueryAccess, SemanticLayer } from '../modeling/semantic-layer.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import { StrataError } from '../modeling/errors.ts';
import { margins, type Cell } from '../modeling/explain/finest-cells.ts';
import type { Filter } from '../modeling/catalog/types.ts';

/** A half-open range of dates (`explainMetricChange`'s periods). */
export interface DateRange {
  readonly from: string;
  readonly to: string;
}

/**
 * The tables an explanation compares (services/metric-change.ts): per period, each value of a
 * dimension with the metric's values and its subject count, read from the semantic layer one
 * dimension at a time, or as margins of the finest cells.
 */
export interface PeriodTable {
  /** value key -> metric values and subject counts. */
  readonly rows: Map<string, { value: unknown; values: Record<string, number | null>; count: number }>;
}

export const keyOf = (value: unknown) => JSON.stringify(value ?? null);

export function tableOf(result: CountedResult, column: string | undefined, metrics: readonly string[], counted: string): PeriodTable {
  const rows = new Map<string, { value: unknown; values: Record<string, number | null>; count: number }>();
  result.rows.forEach((row, i) => {
    const value = column ? row[column] : null;
    const values = Object.fromEntries(metrics.map((m) => [m, row[m] === null || row[m] === undefined ? null : Number(row[m])]));
    rows.set(keyOf(value), { value, values, count: result.counts[i]?.[counted] ?? Number.POSITIVE_INFINITY });
  });
  return { rows };
}

/** The mean of several periods' tables, value by value (a value missing from a period counts 0 there; the count is the smallest). */
export function meanTable(tables: readonly PeriodTable[], metrics: readonly string[]): PeriodTable {
  const rows = new Map<string, { value: unknown; values: Record<string, number | null>; count: number }>();
  for (const table of tables)
    for (const [key, row] of table.rows) {
      const acc = rows.get(key) ?? { value: row.value, values: Object.fromEntries(metrics.map((m) => [m, 0])), count: Number.POSITIVE_INFINITY };
      for (const m of metrics) acc.values[m] = (acc.values[m] ?? 0) + (row.values[m] ?? 0) / tables.length;
      acc.count = Math.min(acc.count, row.count);
      rows.set(key, acc);
    }
  for (const [key, row] of rows) if (tables.some((t) => !t.rows.has(key))) row.count = 0;
  return { rows };
}

/**
 * When the tables of `dimensions` add up from the finest cells over them (`cellsAddUp`), one
 * query per period grouped by those dimensions at once gives them all: each one's table and
 * the totals are sums of its rows (`margins`), the same numbers the one-dimension queries
 * give, with one scan of the facts per period instead of one per dimension and period.
 * Per group (the totals, then each of `dimensions`) the tables of each range; undefined when
 * the cells are more than the row cap.
 */
export async function cellPeriodTables(
  semantic: SemanticLayer,
  db: Kysely<any>,
  access: QueryAccess,
  where: Filter | undefined,
  dimensions: readonly string[],
  ranges: readonly DateRange[],
  metrics: readonly string[],
  counted: string,
  parts: readonly [string, string] | undefined,
  numeric: readonly boolean[],
): Promise<PeriodTable[][] | undefined> {
  const query = (range: DateRange): MetricQuery => ({
    metrics,
    timeRange: range,
    groupBy: dimensions.map((dimension) => ({ dimension })),
    ...(where ? { where } : {}),
  });
  let results: CountedResult[];
  try {
    // A cell count under the threshold runs them exactly: floors decide only where every cell is large.
    results = await mapBounded(ranges, EXPLAIN_QUERY_CONCURRENCY, (range) => semantic.queryCounted(db, query(range), access, { floors: true }));
  } catch (error) {
    if (error instanceof StrataError && error.code === 'INVALID_QUERY') return undefined;
    throw error;
  }
  const perRange = results.map((result) => {
    const columns = result.columns.slice(0, dimensions.length).map((c) => c.name);
    const cells: Cell[] = result.rows.map((row, i) => ({ values: columns.map((c) => row[c]), metrics: row, counts: result.counts[i] ?? {} }));
    return [undefined, ...dimensions.map((_, d) => d)].map((d): PeriodTable => {
      const rows = new Map<string, { value: unknown; values: Record<string, number | null>; count: number }>();
      for (const margin of margins(cells, d, metrics, d !== undefined && numeric[d] === true)) {
        // A ratio's subjects are the fewer of its parts' (as its hidden count, LEAST of the inputs').
        const countedParts = parts?.filter((p) => cells.some((c) => p in c.counts)) ?? [];
        const count = parts
          ? countedParts.length > 0
            ? Math.min(...countedParts.map((p) => margin.counts[p] ?? 0))
            : Number.POSITIVE_INFINITY
          : (margin.counts[counted] ?? Number.POSITIVE_INFINITY);
        rows.set(keyOf(margin.value), { value: margin.value, values: margin.metrics, count });
      }
      return { rows };
    });
  });
  // Per group (the totals, then each dimension): the tables of each range.
  return [undefined, ...dimensions].map((_, g) => perRange.map((tables) => tables[g] as PeriodTable));
}

/** Grouped queries of one explanation that run at once. */
export const EXPLAIN_QUERY_CONCURRENCY = 2;
