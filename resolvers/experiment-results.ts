import { builder } from './builder.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { experimentResults, type CupedVariant, type ExperimentResults, type MetricComparison, type VariantResult } from '../services/experiment-results.ts';
import type { SampleRatioCheck } from '../decisioning/statistics.ts';

/** Sensitivity of every member below: internal (aggregates over customers; counts under the privacy threshold k are null for callers without personal clearance). */
const AGGREGATE = 'Internal: an aggregate over exposed customers.';

const VariantRef = builder.objectRef<VariantResult>('ExperimentVariantResult').implement({
  description: `One variant's results; lift, interval and p-value compare it with the control (the first variant), which has none. ${AGGREGATE}`,
  fields: (t) => {
    const lift = (key: 'absoluteLift' | 'relativeLift' | 'ciLow' | 'ciHigh' | 'pValue', description: string) =>
      t.float({ nullable: true, description, resolve: (v) => v[key] ?? null });
    return {
      key: t.exposeString('key'),
      exposures: t.int({ nullable: true, description: 'Unique customers exposed to this variant only (null: fewer than k).', resolve: (v) => v.exposures }),
      conversions: t.int({
        nullable: true,
        description:
          'Event goal: customers with the goal event within the window after their first exposure. Metric goal: customers with a positive value. Null: fewer than k.',
        resolve: (v) => v.conversions,
      }),
      rate: t.float({
        nullable: true,
        description: 'Event goal: conversions / exposures. Metric goal: mean value per exposed customer.',
        resolve: (v) => v.rate,
      }),
      absoluteLift: lift('absoluteLift', 'Rate (or mean) minus the control’s.'),
      relativeLift: lift('relativeLift', 'absoluteLift / the control’s rate (or mean).'),
      ciLow: lift('ciLow', 'Lower end of the 95 % confidence interval of absoluteLift.'),
      ciHigh: lift('ciHigh', 'Upper end of the 95 % confidence interval of absoluteLift.'),
      pValue: lift('pValue', 'Two-sided p-value (two-proportion z-test for an event goal, Welch’s t-test for a metric goal).'),
      suppressed: t.exposeBoolean('suppressed', { description: 'Whether some of its numbers are hidden because they count fewer than k customers.' }),
    };
  },
});

const SrmRef = builder.objectRef<SampleRatioCheck>('SampleRatioMismatch').implement({
  description: `Chi-square of the exposed customers per variant against the weights. ${AGGREGATE}`,
  fields: (t) => ({
    chiSquare: t.exposeFloat('chiSquare'),
    pValue: t.exposeFloat('pValue'),
    flagged: t.exposeBoolean('flagged', {
      description: 'p < 0.001: the split differs from the weights more than chance explains; check the assignment before reading results.',
    }),
  }),
});

const CupedRef = builder.objectRef<CupedVariant>('CupedVariantResult').implement({
  description: `CUPED (GrowthBook's regression adjustment): the goal's value in the window before the first exposure as covariate, theta pooled over the control and this variant. ${AGGREGATE}`,
  fields: (t) => {
    const lift = (key: 'absoluteLift' | 'relativeLift' | 'ciLow' | 'ciHigh' | 'pValue', description: string) =>
      t.float({ nullable: true, description, resolve: (v) => v[key] ?? null });
    return {
      key: t.exposeString('key'),
      theta: t.float({ nullable: true, resolve: (c) => c.theta }),
      varianceReduction: t.float({
        nullable: true,
        description: 'Share of the variance of the lift removed by the adjustment.',
        resolve: (c) => c.varianceReduction,
      }),
      absoluteLift: lift('absoluteLift', 'Adjusted lift against the control.'),
      relativeLift: lift('relativeLift', 'Adjusted lift / the control’s unadjusted mean.'),
      ciLow: lift('ciLow', '95 % interval of the adjusted lift, lower end.'),
      ciHigh: lift('ciHigh', '95 % interval of the adjusted lift, upper end.'),
      pValue: lift('pValue', 'Two-sided p-value.'),
    };
  },
});

const GoalKindEnum = builder.enumType('ExperimentGoalKind', { values: ['EVENT', 'METRIC'] as const });
const GoalTestEnum = builder.enumType('ExperimentTest', {
  description:
    'TWO_PROPORTION_Z: event goal. WELCH_T: SIMPLE metric, per-customer means. DELTA_RATIO: RATIO metric, Σ numerator / Σ denominator with the delta method.',
  values: ['TWO_PROPORTION_Z', 'WELCH_T', 'DELTA_RATIO'] as const,
});
type GuardrailVariant = MetricComparison['variants'][number];
const GuardrailVariantRef = builder.objectRef<GuardrailVariant>('GuardrailVariantResult').implement({
  description: `A guardrail metric per variant over the goal's window: mean per exposed customer (Welch's test against the control), or Σ numerator / Σ denominator for a RATIO metric (delta method). ${AGGREGATE}`,
  fields: (t) => ({
    key: t.exposeString('key'),
    mean: t.float({ nullable: true, resolve: (v) => v.mean }),
    absoluteLift: t.float({ nullable: true, resolve: (v) => v.absoluteLift }),
    relativeLift: t.float({ nullable: true, resolve: (v) => v.relativeLift }),
    ciLow: t.float({ nullable: true, resolve: (v) => v.ciLow }),
    ciHigh: t.float({ nullable: true, resolve: (v) => v.ciHigh }),
    pValue: t.float({ nullable: true, resolve: (v) => v.pValue }),
    suppressed: t.exposeBoolean('suppressed'),
  }),
});

const GuardrailRef = builder.objectRef<MetricComparison>('GuardrailResult').implement({
  fields: (t) => ({
    metric: t.exposeString('metric'),
    test: t.field({ type: GoalTestEnum, resolve: (g) => g.test }),
    variants: t.field({ type: [GuardrailVariantRef], resolve: (g) => g.variants }),
  }),
});

const ResultGoalRef = builder.objectRef<ExperimentResults['goal']>('ExperimentResultGoal').implement({
  description: 'The goal the results measure (internal).',
  fields: (t) => ({
    kind: t.field({ type: GoalKindEnum, resolve: (g) => g.kind }),
    name: t.exposeString('name', { description: 'The event or metric.' }),
    windowDays: t.exposeInt('windowDays'),
    test: t.field({ type: GoalTestEnum, resolve: (g) => g.test }),
  }),
});

const ResultsRef = builder.objectRef<ExperimentResults>('ExperimentResults').implement({
  description: 'An experiment judged from its exposures (`placement_impression` events carrying `experiment` and `variant`).',
  fields: (t) => ({
    key: t.exposeString('key'),
    goal: t.field({ type: ResultGoalRef, resolve: (r) => r.goal }),
    variants: t.field({ type: [VariantRef], resolve: (r) => r.variants }),
    srm: t.field({
      type: SrmRef,
      nullable: true,
      description: 'Null with no exposures, or when a variant’s count is hidden (fewer than k).',
      resolve: (r) => r.srm,
    }),
    multipleExposures: t.int({
      nullable: true,
      description: `Customers exposed to more than one variant, left out of every number (null: fewer than k). ${AGGREGATE}`,
      resolve: (r) => r.multipleExposures,
    }),
    cuped: t.field({ type: [CupedRef], description: 'Each non-control variant with CUPED variance reduction.', resolve: (r) => r.cuped }),
    guardrails: t.field({ type: [GuardrailRef], resolve: (r) => r.guardrails }),
  }),
});

builder.queryFields((t) => ({
  experimentResults: t.field({
    type: ResultsRef,
    description:
      'Results of an experiment: per variant unique exposed customers, conversions to its goal within the window after first exposure, lift against the control with a 95 % interval and p-value, CUPED, the sample-ratio-mismatch check and guardrail metrics. Counts under the privacy threshold are hidden for callers without personal clearance.',
    args: { key: t.arg.string({ required: true }) },
    resolve: async (_r, { key }, ctx) => {
      const definition = await ctx.experiments.get(key);
      if (!definition) throw new StrataError('NOT_FOUND', `no experiment ${quoteInput(key)}`);
      const { semantic, viewer } = await ctx.session();
      return ctx.analytics.read((db) =>
        experimentResults(db, definition, {
          semantic,
          subject: ctx.domain.subject,
          ...(viewer.minSubjects !== undefined ? { minSubjects: viewer.minSubjects } : {}),
        }),
      );
    },
  }),
}));
