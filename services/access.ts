import { clears } from '../modeling/catalog/sensitivity.ts';
import { StrataError } from '../modeling/errors.ts';
import type { RuleMember } from '../modeling/tags/rule-members.ts';
import { ruleToFilter } from '../modeling/conditions/rule-to-filter.ts';
import type { QueryAccess } from '../modeling/semantic-layer.ts';
import type { Principal } from './authorization.ts';

/** Callers without personal clearance see only aggregates of at least this many customers (STRATA_PRIVACY_K). */
export const DEFAULT_PRIVACY_K = 10;

/**
 * What a caller may see of the warehouse: members up to their clearance, rows inside their
 * scope, and, without personal clearance, no value counting fewer than `k` customers.
 */
export function queryAccess(principal: Principal, subjectName: string, k: number): QueryAccess {
  const { minSubjects } = viewerOf(principal, k);
  return {
    clearance: principal.clearance,
    ...(principal.scope ? { scope: ruleToFilter(principal.scope, subjectName) } : {}),
    ...(minSubjects !== undefined ? { minSubjects } : {}),
  };
}

/** Who is asking, and the smallest count of customers a value shown to them may have (none: any). */
export interface Viewer {
  readonly principal: Principal;
  readonly minSubjects?: number;
}

/** The viewer a principal is, given the small-cell threshold. */
export function viewerOf(principal: Principal, k: number): Viewer {
  return seesIndividuals(principal) ? { principal } : { principal, minSubjects: k };
}

/** Whether the caller may see values about individual customers (no small-cell suppression). */
export function seesIndividuals(principal: Principal): boolean {
  return clears(principal.clearance, 'personal');
}

/** Refuses a rule or tag that reads a member above the caller's clearance (e.g. a customer id in a preview). */
export function checkMembersCleared(principal: Principal, members: readonly RuleMember[], what: string): void {
  const refused = members.find((m) => !clears(principal.clearance, m.sensitivity));
  if (!refused) return;
  throw new StrataError(
    'FORBIDDEN',
    `'${refused.name}' is ${refused.sensitivity} data: a ${what} reading it needs ${refused.sensitivity} clearance (yours: ${principal.clearance})`,
    { member: refused.name, sensitivity: refused.sensitivity },
  );
}
