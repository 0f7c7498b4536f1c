import type { Condition, ConditionLeaf } from '../catalog/condition.ts';
import { all, any, compare, type Truth, type ValueType } from './compare.ts';

/** A leaf's compared value in memory, with the type its literals are read as. */
export interface LeafValue {
  readonly type: ValueType;
  readonly value: unknown;
  /** Where time literals without an offset are read (the model's reporting time zone); UTC by default. */
  readonly timeZone?: string;
}

/**
 * The one in-memory evaluator of conditions: SQL's three-valued logic over the values
 * `valueOf` gives for each leaf, so it answers what `comparisonSql` answers in the database.
 *
 * ```ts
 * evaluateCondition(filter, (leaf) => ({ type: 'string', value: row[leaf.dimension] })) === true // the row matches
 * ```
 */
export function evaluateCondition<L extends ConditionLeaf>(condition: Condition<L>, valueOf: (leaf: L) => LeafValue): Truth {
  switch (condition.kind) {
    case 'and':
      return all(condition.filters.map((c) => evaluateCondition(c, valueOf)));
    case 'or':
      return any(condition.filters.map((c) => evaluateCondition(c, valueOf)));
    case 'not': {
      const inner = evaluateCondition(condition.filter, valueOf);
      return inner === null ? null : !inner;
    }
    default: {
      const leaf = condition as L;
      const { type, value, timeZone } = valueOf(leaf);
      return compare(type, value, leaf.op, leaf.values, timeZone);
    }
  }
}
