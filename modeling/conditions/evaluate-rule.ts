import { aggregateKey, type Rule } from './rule.ts';
import type { Truth, ValueType } from './compare.ts';
import { evaluateCondition } from './evaluate-condition.ts';

/** What the in-memory evaluator knows of one customer. */
export interface CustomerFeatures {
  /** By dimension reference (`customer.age_band`). */
  readonly dimensions: Readonly<Record<string, unknown>>;
  /** Published tag values by key. */
  readonly tags: Readonly<Record<string, unknown>>;
  /** Per-customer aggregates by `aggregateKey` (`transaction.purchase_amount@30d`). */
  readonly aggregates: Readonly<Record<string, number | null>>;
}

/** The value types of the members a rule may name. */
export interface RuleTypes {
  dimensionType(ref: string): ValueType;
  tagType(key: string): ValueType;
  /** The subject model's reporting time zone, where time literals without an offset are read; UTC by default. */
  readonly timeZone?: string;
}

/**
 * Evaluates a rule over one customer's features with SQL's three-valued logic
 * (`evaluateCondition`), so it selects exactly the customers the compiled SQL selects.
 *
 * ```ts
 * evaluateRule(rule, features, types) === true // the customer matches
 * ```
 */
export function evaluateRule(rule: Rule, features: CustomerFeatures, types: RuleTypes): Truth {
  return evaluateCondition(rule, (leaf) => {
    switch (leaf.kind) {
      case 'compare':
        return {
          type: types.dimensionType(leaf.dimension),
          value: features.dimensions[leaf.dimension],
          ...(types.timeZone ? { timeZone: types.timeZone } : {}),
        };
      case 'tag':
        return { type: types.tagType(leaf.tag), value: features.tags[leaf.tag] };
      case 'aggregate':
        return { type: 'number', value: features.aggregates[aggregateKey(leaf.aggregate)] };
    }
  });
}
