import { aggregateKey, type Rule } from './rule.ts';
import { all, any, compare, type Truth, type ValueType } from './compare.ts';

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
}

/**
 * Evaluates a rule over one customer's features with SQL's three-valued logic, so it
 * selects exactly the customers the compiled SQL selects (used by decisions at request time).
 *
 * ```ts
 * evaluateRule(rule, features, types) === true // the customer matches
 * ```
 */
export function evaluateRule(rule: Rule, features: CustomerFeatures, types: RuleTypes): Truth {
  switch (rule.kind) {
    case 'and':
      return all(rule.rules.map((r) => evaluateRule(r, features, types)));
    case 'or':
      return any(rule.rules.map((r) => evaluateRule(r, features, types)));
    case 'not': {
      const inner = evaluateRule(rule.rule, features, types);
      return inner === null ? null : !inner;
    }
    case 'dimension':
      return compare(types.dimensionType(rule.dimension), features.dimensions[rule.dimension], rule.op, rule.values);
    case 'tag':
      return compare(types.tagType(rule.tag), features.tags[rule.tag], rule.op, rule.values);
    case 'aggregate':
      return compare('number', features.aggregates[aggregateKey(rule.aggregate)], rule.op, rule.values);
  }
}
