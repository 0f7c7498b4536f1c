import type { Aggregation, Cardinality, DimensionType, Governance } from './types.ts';
import { STATUSES } from './types.ts';
import type { ProblemCollector } from './validation-error.ts';

export const AGGREGATIONS: readonly Aggregation[] = ['count', 'count_distinct', 'sum', 'sum_boolean', 'avg', 'min', 'max', 'median', 'percentile'];
export const CARDINALITIES: readonly Cardinality[] = ['many_to_one', 'one_to_one', 'one_to_many'];
export const DIMENSION_TYPES: readonly DimensionType[] = ['string', 'number', 'boolean', 'time'];

export function isIdentifier(name: string): boolean {
  return /^[a-z_][a-z0-9_]*$/i.test(name);
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A published definition must say what it means and who answers for it. */
export function checkGovernance(subject: Governance, path: string, problems: ProblemCollector): void {
  if (!STATUSES.includes(subject.status)) problems.add(`${path}.status`, 'INVALID_STATUS', `unknown status '${subject.status}'`);
  if (subject.status !== 'PUBLISHED') return;
  if (!subject.description.trim()) problems.add(`${path}.description`, 'MISSING_DESCRIPTION', 'a published definition needs a description');
  if (!subject.owner.trim()) problems.add(`${path}.owner`, 'MISSING_OWNER', 'a published definition needs an owner');
}
