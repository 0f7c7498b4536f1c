import { StrataError } from '../modeling/errors.ts';
import { isSensitivity, SENSITIVITIES, type Sensitivity } from '../modeling/catalog/sensitivity.ts';
import { parseRule } from '../modeling/conditions/parse-rule.ts';
import { leaves, type Rule } from '../modeling/conditions/rule.ts';
import { checkRule } from '../modeling/tags/check-tag.ts';
import { ROLE_CLEARANCE, type Role } from './authorization.ts';
import type { TagRuntime } from './tag-runtime.ts';

/** The less sensitive of two classes: what a principal keeps when a grant lowers its clearance. */
export function lowerOf(a: Sensitivity, b: Sensitivity): Sensitivity {
  return SENSITIVITIES.indexOf(a) <= SENSITIVITIES.indexOf(b) ? a : b;
}

/**
 * The clearance a key or token of `role` gets: `requested` when given (it may only lower
 * the role's own, else BAD_USER_INPUT), the role's otherwise; never above `ceiling` (the
 * clearance of the admin creating a key: asking for more is FORBIDDEN).
 */
export function grantedClearance(role: Role, requested: unknown, path: string, ceiling: Sensitivity = 'restricted'): Sensitivity {
  const own = ROLE_CLEARANCE[role];
  if (requested === null || requested === undefined) return lowerOf(own, ceiling);
  if (!isSensitivity(requested)) {
    throw new StrataError('BAD_USER_INPUT', `${path}: '${String(requested).slice(0, 40)}' is not a clearance; use one of ${SENSITIVITIES.join(', ')}`, {
      path,
    });
  }
  if (lowerOf(requested, own) !== requested) {
    throw new StrataError('BAD_USER_INPUT', `${path}: '${requested}' is above the ${role} role's clearance '${own}'; a key or token may only lower it`, {
      path,
    });
  }
  if (lowerOf(requested, ceiling) !== requested) {
    throw new StrataError('FORBIDDEN', `${path}: '${requested}' is above your own clearance '${ceiling}'; you cannot grant more than you hold`, { path });
  }
  return requested;
}

/**
 * Parses and checks a row-level scope: a rule (API.md's JSON form) over the customer's own
 * dimensions (`customer.channel`) and published tags (`{ tag }`); aggregates are refused,
 * since a scope must be decidable from the customer's row and profile alone.
 */
export async function parseScope(runtime: TagRuntime, input: unknown, path: string): Promise<Rule> {
  const rule = parseRule(input, path);
  leaves(rule).forEach((leaf, i) => {
    if (leaf.kind !== 'aggregate') return;
    const at = `${path} (comparison ${i + 1})`;
    throw new StrataError(
      'BAD_USER_INPUT',
      `${at}: a scope compares ${runtime.subject.model.name} dimensions and published tags only, not aggregates like '${leaf.aggregate.measure}'`,
      { path: at },
    );
  });
  checkRule(rule, runtime.subject, (await runtime.registry()).live, path, { forPublish: true });
  return rule;
}

/** Both scopes (a key created by a scoped admin stays within the admin's scope). */
export function narrowScope(outer: Rule | undefined, inner: Rule | undefined): Rule | undefined {
  if (!outer) return inner;
  if (!inner) return outer;
  return { kind: 'and', filters: [outer, inner] };
}
