import type { Sensitivity } from '../modeling/catalog/sensitivity.ts';

/**
 * The sensitivity class of every member the decision layer exposes, by GraphQL type and field.
 * Definitions are the bank's own operating material (`internal`); a `Decision` says what one
 * customer is shown and why (which of their tags and audiences matched), so each of its members
 * is `personal`: `decide` is open only to roles cleared for personal data, and its targeting
 * reads the caller's masked profile (a tag above the caller's clearance never matches).
 * test/decision-sensitivity.test.ts checks that every field of these types has a class.
 */
export const DECISION_MEMBER_SENSITIVITY: Readonly<Record<string, Readonly<Record<string, Sensitivity>>>> = {
  Placement: {
    key: 'internal',
    channel: 'internal',
    page: 'internal',
    description: 'internal',
    slots: 'internal',
    contentSchema: 'internal',
    fallback: 'internal',
    fatigue: 'internal',
    tracking: 'internal',
    status: 'internal',
    version: 'internal',
    live: 'internal',
  },
  PlacementTracking: { impressionEvent: 'internal', clickEvent: 'internal' },
  FatigueRule: { scope: 'internal', maxImpressions: 'internal', windowDays: 'internal', period: 'internal' },
  Content: {
    key: 'internal',
    placement: 'internal',
    description: 'internal',
    payload: 'internal',
    validFrom: 'internal',
    validTo: 'internal',
    status: 'internal',
    version: 'internal',
    live: 'internal',
  },
  Strategy: {
    key: 'internal',
    placement: 'internal',
    description: 'internal',
    audience: 'internal',
    rule: 'internal',
    contents: 'internal',
    experiment: 'internal',
    priority: 'internal',
    trafficShare: 'internal',
    schedule: 'internal',
    status: 'internal',
    version: 'internal',
    live: 'internal',
  },
  Schedule: { from: 'internal', to: 'internal' },
  Experiment: {
    key: 'internal',
    placement: 'internal',
    description: 'internal',
    status: 'internal',
    definitionStatus: 'internal',
    seed: 'internal',
    hashVersion: 'internal',
    coverage: 'internal',
    holdoutShare: 'internal',
    variants: 'internal',
    goal: 'internal',
    guardrails: 'internal',
    version: 'internal',
    live: 'internal',
  },
  Variant: { key: 'internal', weight: 'internal', content: 'internal' },
  ExperimentGoal: { metric: 'internal', event: 'internal', windowDays: 'internal' },
  DecisionChange: { kind: 'internal', key: 'internal', version: 'internal', status: 'internal', updatedBy: 'internal' },
  DecisionHistoryEntry: {
    version: 'internal',
    status: 'internal',
    actor: 'internal',
    action: 'internal',
    at: 'internal',
    diff: 'internal',
    reason: 'internal',
  },
  Decision: {
    placement: 'personal',
    decisionId: 'personal',
    content: 'personal',
    strategy: 'personal',
    experiment: 'personal',
    variant: 'personal',
    fallback: 'personal',
    reason: 'personal',
  },
  DecidedContent: { key: 'personal', payload: 'personal' },
};
