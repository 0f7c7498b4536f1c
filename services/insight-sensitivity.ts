import type { Sensitivity } from '../modeling/catalog/sensitivity.ts';

/**
 * The sensitivity class of every member insight exposes, by GraphQL type and field. Insight
 * answers are aggregates over customers (counts of at least the privacy threshold for callers
 * without personal clearance, statistics, and rules naming catalog members), so every member
 * is `internal`; which features a caller may name is checked against their clearance with
 * the features' own classes. test/insight-sensitivity.test.ts checks that every field of
 * these types has a class.
 */
export const INSIGHT_MEMBER_SENSITIVITY: Readonly<Record<string, Readonly<Record<string, Sensitivity>>>> = {
  AudienceComparison: { asOf: 'internal', targetCustomers: 'internal', restCustomers: 'internal', features: 'internal', values: 'internal' },
  ComparisonFeature: { feature: 'internal', cramersV: 'internal', chiSquare: 'internal', degreesOfFreedom: 'internal', pValue: 'internal', qValue: 'internal' },
  ComparisonValue: {
    feature: 'internal',
    value: 'internal',
    targetCustomers: 'internal',
    targetShare: 'internal',
    referenceCustomers: 'internal',
    referenceShare: 'internal',
    tgi: 'internal',
    lift: 'internal',
    pValue: 'internal',
    qValue: 'internal',
    suppressed: 'internal',
  },
  AttributionTree: { asOf: 'internal', nodes: 'internal' },
  AttributionNode: {
    id: 'internal',
    parentId: 'internal',
    depth: 'internal',
    rule: 'internal',
    feature: 'internal',
    value: 'internal',
    inGroup: 'internal',
    customers: 'internal',
    conversions: 'internal',
    rate: 'internal',
    lift: 'internal',
    pValue: 'internal',
  },
  LookalikeAudience: {
    key: 'internal',
    size: 'internal',
    seed: 'internal',
    randomSeed: 'internal',
    trainingCustomers: 'internal',
    quality: 'internal',
    topFeatures: 'internal',
  },
  LookalikeQuality: { auc: 'internal', precisionAtK: 'internal', liftTopDecile: 'internal', holdoutCustomers: 'internal' },
  InsightStrategyDraft: { audience: 'internal', strategy: 'internal' },
  FeatureWeight: { feature: 'internal', value: 'internal', weight: 'internal' },
};
