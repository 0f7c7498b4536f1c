import type { Rule } from './rule.ts';
import { parseCondition } from '../catalog/parse-condition.ts';

export { parseAggregateRef } from '../catalog/parse-condition.ts';

/** A rule as API clients write it: exactly one of the keys below per object. */
export type RuleInput = Record<string, unknown>;

/**
 * Validates a rule written as plain JSON (API.md's `rule`) and returns its AST. Every
 * problem is a BAD_USER_INPUT naming the path of the bad node, e.g. `rule.and[1].op`;
 * the shared `CONDITION_LIMITS` bound its depth, comparisons and values.
 *
 * ```ts
 * parseRule({ tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] }); // { kind: 'tag', tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] }
 * ```
 */
export function parseRule(input: unknown, path = 'rule'): Rule {
  return parseCondition(input, { noun: 'rule', path, subjects: ['dimension', 'tag', 'aggregate'] }) as Rule;
}
