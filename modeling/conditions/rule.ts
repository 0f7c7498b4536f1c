import type { FilterOp } from '../catalog/types.ts';

/** A trailing window of whole days up to and including the as-of date. */
export interface DayWindow {
  readonly days: number;
}

/**
 * The one condition language of tags, audiences and strategy targeting. Leaves compare a
 * customer dimension, another tag, or a per-customer aggregate of a measure over a
 * trailing window; `and` / `or` / `not` combine them. SQL's three-valued logic applies:
 * a comparison with a missing value is unknown, and only a true rule selects a customer.
 */
export type Rule =
  | { readonly kind: 'and'; readonly rules: readonly Rule[] }
  | { readonly kind: 'or'; readonly rules: readonly Rule[] }
  | { readonly kind: 'not'; readonly rule: Rule }
  | { readonly kind: 'dimension'; readonly dimension: string; readonly op: FilterOp; readonly values: readonly string[] }
  | { readonly kind: 'tag'; readonly tag: string; readonly op: FilterOp; readonly values: readonly string[] }
  | { readonly kind: 'aggregate'; readonly aggregate: AggregateRef; readonly op: FilterOp; readonly values: readonly string[] };

/** `model.measure` aggregated per customer over the trailing window. */
export interface AggregateRef {
  readonly measure: string;
  readonly window: DayWindow;
}

export type Leaf = Extract<Rule, { kind: 'dimension' | 'tag' | 'aggregate' }>;

/** A stable name for an aggregate leaf's input, e.g. `transaction.purchase_amount@30d`. */
export function aggregateKey(ref: AggregateRef): string {
  return `${ref.measure}@${ref.window.days}d`;
}

/** Every leaf of a rule, left to right. */
export function leaves(rule: Rule): Leaf[] {
  switch (rule.kind) {
    case 'and':
    case 'or':
      return rule.rules.flatMap(leaves);
    case 'not':
      return leaves(rule.rule);
    default:
      return [rule];
  }
}
