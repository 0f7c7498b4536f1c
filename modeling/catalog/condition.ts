/**
 * The one condition language of Strata: metric filters (query `where`, measure and metric
 * filters, MetricFlow filter text), tag and audience rules, access scopes and (later)
 * strategy targeting are all `Condition`s. Each use admits a subset of the leaves (a metric
 * filter has no aggregates, a rule has no metric subqueries), but they share this AST, one
 * validator (`validateCondition`), one comparison compiler (`comparisonSql`) and one
 * in-memory evaluator (`evaluateCondition`). SQL's three-valued logic applies: a comparison
 * with a missing value is unknown, and only a true condition selects a row.
 */

/** Every comparison operator, in the order API.md lists them. */
export const CONDITION_OPS = ['EQ', 'NEQ', 'IN', 'NOT_IN', 'GT', 'GTE', 'LT', 'LTE', 'BETWEEN', 'CONTAINS', 'STARTS_WITH', 'IS_NULL', 'IS_NOT_NULL'] as const;

export type ConditionOp = (typeof CONDITION_OPS)[number];

/** Whether `op` is one of `CONDITION_OPS` (a condition built in code or read from JSON may hold anything). */
export function isConditionOp(op: unknown): op is ConditionOp {
  return typeof op === 'string' && (CONDITION_OPS as readonly string[]).includes(op);
}

/** How many values each operator takes, `[min, max]` (the maximum of lists is `CONDITION_LIMITS.maxValues`). */
export function opArity(op: ConditionOp): readonly [number, number] {
  switch (op) {
    case 'IS_NULL':
    case 'IS_NOT_NULL':
      return [0, 0];
    case 'BETWEEN':
      return [2, 2];
    case 'IN':
    case 'NOT_IN':
      return [1, Number.POSITIVE_INFINITY];
    case 'EQ':
    case 'NEQ':
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE':
    case 'CONTAINS':
    case 'STARTS_WITH':
      return [1, 1];
  }
}

/** A trailing window of whole days up to and including the as-of date. */
export interface DayWindow {
  readonly days: number;
}

/** `model.measure` aggregated per subject over the trailing window. */
export interface AggregateRef {
  readonly measure: string;
  readonly window: DayWindow;
}

/** A dimension compared with literals; `grain` truncates a time dimension first (metric filters only). */
export interface DimensionLeaf<G extends string = string> {
  readonly kind: 'compare';
  /** A dimension reference (`customer.age_band`, `metric_time`, `customer.tag.<key>`, `listing__country_latest`). */
  readonly dimension: string;
  readonly grain?: G;
  readonly op: ConditionOp;
  readonly values: readonly string[];
}

/** A metric's value per entity compared with literals (`Metric('bookings', ['listing']) > 2`). */
export interface MetricLeaf {
  readonly kind: 'metric';
  readonly metric: string;
  /** Entity references the metric is grouped by; the filtered rows match on them. */
  readonly groupBy: readonly string[];
  readonly op: ConditionOp;
  readonly values: readonly string[];
}

/** A published tag of the subject compared with literals. */
export interface TagLeaf {
  readonly kind: 'tag';
  readonly tag: string;
  readonly op: ConditionOp;
  readonly values: readonly string[];
}

/** A per-subject aggregate of a measure over a trailing window compared with literals. */
export interface AggregateLeaf {
  readonly kind: 'aggregate';
  readonly aggregate: AggregateRef;
  readonly op: ConditionOp;
  readonly values: readonly string[];
}

export type ConditionLeaf = DimensionLeaf | MetricLeaf | TagLeaf | AggregateLeaf;

/**
 * A condition over the leaves `L`: `and` / `or` of one or more conditions, `not`, or a leaf.
 *
 * ```ts
 * const c: Condition = { kind: 'not', filter: { kind: 'compare', dimension: 'customer.channel', op: 'EQ', values: ['app'] } };
 * ```
 */
export type Condition<L extends ConditionLeaf = ConditionLeaf> =
  | { readonly kind: 'and'; readonly filters: readonly Condition<L>[] }
  | { readonly kind: 'or'; readonly filters: readonly Condition<L>[] }
  | { readonly kind: 'not'; readonly filter: Condition<L> }
  | L;

/** Every leaf of a condition, left to right. */
export function leaves<L extends ConditionLeaf>(condition: Condition<L>): L[] {
  switch (condition.kind) {
    case 'and':
    case 'or':
      return condition.filters.flatMap((c) => leaves(c));
    case 'not':
      return leaves(condition.filter);
    default:
      return [condition as L];
  }
}

/** A stable name for an aggregate leaf's input, e.g. `transaction.purchase_amount@30d`. */
export function aggregateKey(ref: AggregateRef): string {
  return `${ref.measure}@${ref.window.days}d`;
}
