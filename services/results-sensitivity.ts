import type { Sensitivity } from '../modeling/catalog/sensitivity.ts';

/**
 * The sensitivity class of every member experiment results and goals expose, by GraphQL
 * type and field. All are `internal`: definitions are the bank's operating material, and
 * every number is an aggregate over customers, under the small-cell threshold k (counts of
 * fewer than k customers are null for callers without personal clearance; goal actuals go
 * through the semantic layer with the caller's clearance, scope and k).
 * test/results-sensitivity.test.ts checks that every field of these types has a class.
 */
const internal = <K extends string>(...fields: K[]): Record<K, Sensitivity> => Object.fromEntries(fields.map((f) => [f, 'internal'])) as Record<K, Sensitivity>;
const LIFT = ['absoluteLift', 'relativeLift', 'ciLow', 'ciHigh', 'pValue'] as const;

export const RESULTS_MEMBER_SENSITIVITY: Readonly<Record<string, Readonly<Record<string, Sensitivity>>>> = {
  ExperimentResults: internal('key', 'goal', 'variants', 'srm', 'multipleExposures', 'cuped', 'guardrails'),
  ExperimentResultGoal: internal('kind', 'name', 'windowDays', 'test'),
  ExperimentVariantResult: internal('key', 'exposures', 'conversions', 'rate', ...LIFT, 'suppressed'),
  SampleRatioMismatch: internal('chiSquare', 'pValue', 'flagged'),
  CupedVariantResult: internal('key', 'theta', 'varianceReduction', ...LIFT),
  GuardrailResult: internal('metric', 'test', 'variants'),
  GuardrailVariantResult: internal('key', 'mean', ...LIFT, 'suppressed'),
  Goal: internal('key', 'metric', 'target', 'period', 'parent', 'description', 'version', 'updatedBy', 'actual', 'progress', 'children'),
  GoalPeriod: internal('from', 'to'),
  GoalContribution: internal('key', 'metric', 'actual', 'contribution'),
};
