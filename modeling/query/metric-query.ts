import type { Filter, Grain } from '../catalog/types.ts';

export type DatePart = 'YEAR' | 'QUARTER' | 'MONTH' | 'WEEK' | 'DAY' | 'DOW' | 'DOY' | 'HOUR';

export interface GroupByInput {
  /**
   * `model.dimension`, `metric_time` for each metric's own time dimension, or a MetricFlow
   * name (`listing__country_latest`, `metric_time__month`, `booking__ds__alien_day`, `listing`).
   */
  readonly dimension: string;
  readonly grain?: Grain;
  readonly datePart?: DatePart;
}

export interface OrderByInput {
  /** A metric name or a group-by column as written or as output (`metric_time__month`). */
  readonly field: string;
  readonly direction?: 'ASC' | 'DESC';
}

/** A metric query as API.md's `MetricQueryInput` describes it, with the filter already in tagged form. */
export interface MetricQuery {
  /** Metric names; empty with group-bys for the distinct values of the group-bys. */
  readonly metrics: readonly string[];
  /** A saved query of the catalog: its metrics, group-bys, filter, order and limit apply. */
  readonly savedQuery?: string;
  readonly groupBy?: readonly GroupByInput[];
  readonly where?: Filter;
  /** Half-open `[from, to)` in the reporting time zone: `YYYY-MM-DD` or ISO timestamps. */
  readonly timeRange?: { readonly from?: string; readonly to?: string };
  readonly orderBy?: readonly OrderByInput[];
  readonly limit?: number;
  readonly offset?: number;
  /**
   * Row-level scope of the caller (e.g. `customer.channel IN (app, web)`): rows outside it do
   * not exist. It is added to every aggregation over a model that reaches its dimensions,
   * and a query's plan is cached with it, so one scope never sees another's answer.
   */
  readonly scope?: Filter;
  /** `false`: read the raw tables even when a rollup covers the query (the default answers from the rollup). */
  readonly useRollups?: boolean;
  /**
   * Models whose many-to-one join the database guarantees (a validated foreign key from the
   * joining column to the joined model's key): a group-by or filter on the joined model's key
   * column, one hop away over a one-column join, reads the joining column instead and the join
   * is left out. Only the caller can know the guarantee holds; without it a row whose key has
   * no match would show its own key instead of NULL.
   */
  readonly trustedJoins?: readonly string[];
}

/** A stable key for a query: equal queries (whatever their property order) get equal keys. */
export function queryKey(query: MetricQuery): string {
  return JSON.stringify(query, (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined && v !== null)
            .sort(([a], [b]) => a.localeCompare(b)),
        )
      : value,
  );
}
