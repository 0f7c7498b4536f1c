import { parseRule } from './parse-rule.ts';
import type { Rule } from './rule.ts';

/**
 * A rule read back from the database. Rules are stored in API.md's input form
 * (`ruleToInput`), which outlives changes to the AST; rules stored by earlier versions as
 * their AST (`{ kind: 'dimension' | 'tag' | 'aggregate', ... }`, `{ kind: 'and', rules }`)
 * are read too. Either way the rule passes the one condition validator again.
 *
 * ```ts
 * readStoredRule({ kind: 'dimension', dimension: 'customer.age_band', op: 'EQ', values: ['25-34'] });
 * // { kind: 'compare', dimension: 'customer.age_band', op: 'EQ', values: ['25-34'] }
 * ```
 */
export function readStoredRule(stored: unknown, path = 'rule'): Rule {
  return parseRule(asInput(stored, 0), path);
}

function asInput(node: unknown, depth: number): unknown {
  if (!node || typeof node !== 'object' || Array.isArray(node) || !('kind' in node) || depth > 64) return node;
  const { kind, rules, filters, rule, filter, ...leaf } = node as Record<string, unknown>;
  if (kind === 'and' || kind === 'or') {
    const items = rules ?? filters;
    return { [kind]: Array.isArray(items) ? items.map((item) => asInput(item, depth + 1)) : items };
  }
  if (kind === 'not') return { not: asInput(rule ?? filter, depth + 1) };
  return leaf;
}
