import type { DimensionType, Duration, ExpressionFunction, Filter, Grain, MeasureInput, NonAdditive } from '../catalog/types.ts';
import type { ResolvedGroupBy } from './resolve-query.ts';

/**
 * The plan of a metric query, as data: what `modeling/plan` decides and `modeling/sql`
 * renders. It is frozen and JSON-serializable, names models, measures and metrics by their
 * catalog names only (never a table or a column), and is the same for the same query and
 * catalog, so it can be printed, compared, cached and explained.
 */
export interface MetricPlan {
  readonly query: PlanQuery;
  /** The aggregations of the statement, in order; each becomes one CTE (`n0`, `n1`, ...). */
  readonly nodes: readonly PlanNode[];
  /** Per requested metric (in query order), its value over the nodes' columns. */
  readonly metrics: readonly PlanMetric[];
  /** The rewrites the planner applied, for explanation (they never change the rows). */
  readonly rewrites: readonly PlanRewrite[];
  /** Metric filters (`Metric('x', [entity]) > 2`): each is a metric query of its own, joined on its group-bys. */
  readonly subqueries: readonly PlanSubquery[];
  /** Faster physical shapes (one pass per model, probed semi-additive periods, aggregated conversion anchors). */
  readonly fastShapes: boolean;
  /**
   * The rollup answering the query in place of the nodes (then `nodes` is empty and metric
   * values name columns of node `rollup`); absent when raw tables answer it.
   */
  readonly rollup?: PlanRollup;
}

/** A query answered from a rollup: which one, how each group-by and value is read back from its stored rows. */
export interface PlanRollup {
  /** The rollup (as stored: `<name>` or `<name>__<dimension>`). */
  readonly rollup: string;
  /** The grain its time is stored at. */
  readonly timeGrain: Grain;
  /** Per query group-by (in order): metric_time at a grain, or one of the rollup's dimensions. */
  readonly groupBy: readonly ({ readonly kind: 'time'; readonly grain: Grain } | { readonly kind: 'dimension'; readonly dimension: string })[];
  /** The query's filter and row scope, over the rollup's dimensions only. */
  readonly where?: Filter;
  /** Periods read: `[from, to)` as period starts (the query's range widened to whole periods). */
  readonly range: { readonly from?: string; readonly to?: string };
  readonly columns: readonly PlanRollupColumn[];
  /** The type of each stored dimension read (grouped or filtered on). */
  readonly dimensions: readonly { readonly dimension: string; readonly type: DimensionType }[];
}

export interface PlanRollupColumn {
  readonly column: string;
  /** The stored metric (a simple or conversion metric) and, for a conversion, which of its parts. */
  readonly leaf: string;
  readonly part: 'value' | 'conversions' | 'opportunities';
  /**
   * How stored rows combine: `sum` (sums and counts), `min`/`max`, `exact` (one stored row per
   * group: distinct counts and conversions at exactly the rollup's dimensions and grain),
   * `last` (semi-additive: the rows at the last or first stored day of each period).
   */
  readonly reaggregate: 'sum' | 'min' | 'max' | 'exact' | 'last' | 'first';
  /** A count over no rows is 0 (as raw `COUNT`), not null: only without group-bys. */
  readonly zeroIfEmpty?: boolean;
}

/** The resolved query as the renderer needs it: group-bys, filters, range, order and paging. */
export interface PlanQuery {
  readonly groupBy: readonly ResolvedGroupBy[];
  readonly where?: Filter;
  readonly timeRange?: { readonly from?: string; readonly to?: string };
  /** The grain whose whole periods the time range is widened to (see `ResolvedQuery.timeRangeGrain`). */
  readonly timeRangeGrain?: Grain;
  readonly orderBy: readonly { readonly column: string; readonly descending: boolean }[];
  readonly limit?: number;
  readonly offset: number;
  /** The caller's row-level scope, added to every aggregation over a model that reaches it. */
  readonly scope?: Filter;
  /** A query without metrics: distinct values of the group-bys from this model (or the time spine alone). */
  readonly distinctFrom?: string;
  /** Joined models whose key is read from the joining column, the join left out (`MetricQuery.trustedJoins`). */
  readonly trustedJoins?: readonly string[];
}

/** A shift of a metric input in time: a window (`7 days` later), to the start of a grain's period, or by custom periods. */
export type TimeOffset = Duration | { readonly toGrain: Grain } | { readonly customGrain: string; readonly count: number };

/** One aggregation of the statement. `id` is its CTE name; `columns` the value columns it adds to the group-bys. */
export type PlanNode = AggregatePlanNode | CumulativePlanNode | ConversionPlanNode;

interface PlanNodeBase {
  readonly id: string;
  /** Row filters of every input: the query's, the metric's and its inputs' (the measure's own are in `columns`). */
  readonly filters: readonly Filter[];
  /** Time shifts of derived-metric inputs, outermost first. */
  readonly offsets: readonly TimeOffset[];
  /** Models joined (many-to-one) to reach the group-bys and filters: `listing` via `bookings.listing`. */
  readonly joins: readonly PlanJoin[];
}

export interface PlanJoin {
  /** The path from the node's model, join names separated by `/`. */
  readonly path: string;
  readonly model: string;
  /** A slowly changing dimension: only its row valid at each input row's time joins (`start <= t < end`, open end). */
  readonly validity?: { readonly start: string; readonly end: string };
}

export interface AggregatePlanNode extends PlanNodeBase {
  readonly kind: 'aggregate';
  readonly model: string;
  /** The time dimension placing rows in time (metric_time of this node) and its grain. */
  readonly timeDimension: string;
  readonly timeGrain: Grain;
  /** Semi-additive: only rows at the last (first) value of this dimension count (from the measure). */
  readonly nonAdditive?: NonAdditive;
  /** Grouped by metric_time, every period of the time spine appears (MetricFlow's join_to_timespine). */
  readonly joinToTimeSpine?: boolean;
  readonly columns: readonly AggregatePlanColumn[];
}

export interface AggregatePlanColumn {
  readonly column: string;
  readonly measure: MeasureInput;
  /** The measure's own row filter, when it shares the node with other measures (`AGG(...) FILTER (WHERE ...)`). */
  readonly filter?: Filter;
}

export interface CumulativePlanNode extends PlanNodeBase {
  readonly kind: 'cumulative';
  readonly metric: string;
  readonly measure: MeasureInput;
  readonly timeGrain: Grain;
  /** Grouped by metric_time, every period of the time spine appears (MetricFlow's join_to_timespine). */
  readonly joinToTimeSpine?: boolean;
  readonly column: string;
}

export interface ConversionPlanNode extends PlanNodeBase {
  readonly kind: 'conversion';
  readonly metric: string;
  readonly base: MeasureInput;
  readonly conversion: MeasureInput;
  readonly opportunities: string;
  readonly conversions: string;
}

export interface PlanMetric {
  readonly name: string;
  readonly value: PlanValue;
}

/**
 * A metric's value over node columns. Division is always numeric (`ratio`, and `/` of a
 * derived expression), so integer inputs never divide as integers; literals keep their text.
 */
export type PlanValue =
  | { readonly kind: 'column'; readonly node: string; readonly column: string }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'negate'; readonly operand: PlanValue }
  | { readonly kind: 'binary'; readonly op: '+' | '-' | '*' | '/'; readonly left: PlanValue; readonly right: PlanValue }
  | { readonly kind: 'call'; readonly fn: ExpressionFunction; readonly args: readonly PlanValue[] }
  /** numerator / denominator, NULL when the denominator is 0. */
  | { readonly kind: 'ratio'; readonly numerator: PlanValue; readonly denominator: PlanValue }
  /** The value, or `fill` where it is NULL (MetricFlow's `fill_nulls_with`). */
  | { readonly kind: 'fill'; readonly value: PlanValue; readonly fill: number };

export type PlanRewrite =
  /** Measures of one model with different own filters read in one pass. */
  | { readonly rewrite: 'shared_pass'; readonly node: string; readonly measures: readonly string[] }
  /** Every period of the time spine appears, with or without data. */
  | { readonly rewrite: 'time_spine_join'; readonly node: string }
  /** The node reads rows of another period (a derived metric's `offset_window` / `offset_to_grain`). */
  | { readonly rewrite: 'time_offset'; readonly node: string }
  /** Only the rows at the last (or first) value of the non-additive dimension count. */
  | { readonly rewrite: 'semi_additive'; readonly node: string; readonly dimension: string; readonly window: 'min' | 'max' }
  /** A metric's empty values are replaced (`fill_nulls_with`). */
  | { readonly rewrite: 'fill_nulls'; readonly metric: string; readonly fill: number }
  /** A metric filter is a metric query of its own, joined on its group-bys. */
  | { readonly rewrite: 'metric_filter_subquery'; readonly metric: string; readonly groupBy: readonly string[] }
  /** The values are read from a rollup's precomputed rows in place of the raw tables. */
  | { readonly rewrite: 'rollup'; readonly rollup: string };

export interface PlanSubquery {
  readonly metric: string;
  readonly groupBy: readonly string[];
  readonly plan: MetricPlan;
}

/** The subquery plan of a metric filter, as the renderer looks it up. */
export function subqueryKey(metric: string, groupBy: readonly string[]): string {
  return JSON.stringify([metric, groupBy]);
}

/** Columns a node produces beyond its group-by columns. */
export function nodeColumns(node: PlanNode): readonly string[] {
  // (a rollup read has no nodes: its columns are `PlanRollup.columns`)
  if (node.kind === 'aggregate') return node.columns.map((c) => c.column);
  if (node.kind === 'cumulative') return [node.column];
  return [node.opportunities, node.conversions];
}
