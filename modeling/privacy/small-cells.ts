import type { MetricQuery } from '../query/metric-query.ts';
import type { ContributorCatalog } from './contributor-catalog.ts';

/** A metric query with the hidden contributor counts it needs, and how to read them back. */
export interface CountedQuery {
  readonly query: MetricQuery;
  /** Metric (or, for a distinct-values query, `*`) -> the column counting its subjects. */
  readonly counts: ReadonlyMap<string, string>;
}

/** The row-count key of a distinct-values query: the whole row is one cell. */
export const WHOLE_ROW = '*';

/**
 * Adds to a query the hidden metric counting the subjects behind each of its metrics (or,
 * without metrics, behind each distinct row of `distinctModel`); metrics that read no
 * subject's rows get none and are never suppressed.
 */
export function countContributors(query: MetricQuery, contributors: ContributorCatalog, distinctModel: string | undefined): CountedQuery {
  const counts = new Map<string, string>();
  if (query.metrics.length === 0) {
    const rows = distinctModel ? contributors.ofModel.get(distinctModel) : undefined;
    if (rows) counts.set(WHOLE_ROW, rows);
  }
  for (const metric of query.metrics) {
    const count = contributors.ofMetric.get(metric);
    if (count) counts.set(metric, count);
  }
  const extra = [...new Set(counts.values())].filter((c) => !query.metrics.includes(c));
  return { query: { ...query, metrics: [...query.metrics, ...extra] }, counts };
}

export interface SuppressedRows {
  readonly rows: Record<string, unknown>[];
  /** Indexes (into `rows`) of the rows with a suppressed value. */
  readonly suppressed: number[];
}

/**
 * Hides every value counting fewer than `k` distinct subjects: a metric value becomes null
 * and its row is flagged; a distinct-values row under `k` is left out (it has no value to
 * hide). The count columns are removed.
 */
export function suppressSmallCells(rows: readonly Record<string, unknown>[], counted: CountedQuery, k: number, userMetrics: readonly string[]): SuppressedRows {
  const countColumns = new Set([...counted.counts.values()].filter((c) => !userMetrics.includes(c)));
  const kept: Record<string, unknown>[] = [];
  const suppressed: number[] = [];
  for (const row of rows) {
    const small = (column: string) => Number(row[column] ?? 0) < k;
    const wholeRow = counted.counts.get(WHOLE_ROW);
    if (wholeRow && small(wholeRow)) continue;
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row)) if (!countColumns.has(name)) out[name] = value;
    let hidden = false;
    for (const metric of userMetrics) {
      const count = counted.counts.get(metric);
      if (count && small(count)) {
        out[metric] = null;
        hidden = true;
      }
    }
    if (hidden) suppressed.push(kept.length);
    kept.push(out);
  }
  return { rows: kept, suppressed };
}
