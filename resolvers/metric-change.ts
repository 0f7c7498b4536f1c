import { builder } from './builder.ts';
import { FilterInputRef, filterFromInput } from './filter-input.ts';
import type { Explanation } from '../modeling/explain/decompose.ts';
import { StrataError } from '../modeling/errors.ts';
import {
  explainMetricChange,
  type ContributionRow,
  type DateRange,
  type DimensionSummary,
  type ExplainInput,
  type MetricChangeExplanation,
  type MixRateRow,
} from '../services/metric-change.ts';

const ChangeMethodEnum = builder.enumType('ChangeMethod', {
  description:
    'How the change decomposes: ADDITIVE (values add up), RATIO (Kitagawa mix and rate effects), SEMI_ADDITIVE (closing balances, e.g. AUM, add up across customers and products), NON_ADDITIVE (per-value changes shown, not summed, never ranked).',
  values: ['ADDITIVE', 'RATIO', 'SEMI_ADDITIVE', 'NON_ADDITIVE'] as const,
});

const ChangeRangeRef = builder.objectRef<DateRange>('ChangeRange').implement({
  fields: (t) => ({ from: t.exposeString('from'), to: t.exposeString('to') }),
});

const ChangeDimensionRef = builder.objectRef<DimensionSummary>('ChangeDimension').implement({
  fields: (t) => ({
    dimension: t.exposeString('dimension'),
    surprise: t.exposeFloat('surprise', { description: 'Jensen-Shannon divergence (bits) between the base and current distributions over its values.' }),
    additive: t.exposeBoolean('additive', { description: 'Whether its values’ contributions add up to the total change.' }),
    suppressedValues: t.exposeInt('suppressedValues', { description: 'Values hidden under the privacy threshold (with their complements).' }),
  }),
});

const ChangeContributionRef = builder.objectRef<ContributionRow>('ChangeContribution').implement({
  fields: (t) => ({
    dimension: t.exposeString('dimension'),
    value: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.value as never }),
    base: t.float({ nullable: true, resolve: (c) => c.base }),
    current: t.float({ nullable: true, resolve: (c) => c.current }),
    change: t.float({ nullable: true, description: 'This value’s part of the change (a ratio: its mix plus rate effect).', resolve: (c) => c.change }),
    share: t.float({ nullable: true, description: 'change / the total change.', resolve: (c) => c.share }),
    suppressed: t.exposeBoolean('suppressed'),
  }),
});

const ChangeMemberRef = builder.objectRef<Explanation['members'][number]>('ChangeMember').implement({
  fields: (t) => ({
    dimension: t.exposeString('dimension'),
    value: t.field({ type: 'JSON', nullable: true, resolve: (m) => m.value as never }),
  }),
});

const ChangeExplanationRef = builder.objectRef<Explanation>('ChangeExplanation').implement({
  description: 'A candidate cause (Adtributor): values of one dimension that together explain the change.',
  fields: (t) => ({
    members: t.field({ type: [ChangeMemberRef], resolve: (e) => [...e.members] }),
    explanatoryPower: t.exposeFloat('explanatoryPower', { description: 'The share of the change the members account for.' }),
    surprise: t.exposeFloat('surprise'),
  }),
});

const MixRateRef = builder.objectRef<MixRateRow>('MixRateEffect').implement({
  fields: (t) => ({
    dimension: t.exposeString('dimension'),
    value: t.field({ type: 'JSON', nullable: true, resolve: (m) => m.value as never }),
    mixEffect: t.float({ nullable: true, description: 'Change from the value’s weight in the denominator.', resolve: (m) => m.mixEffect }),
    rateEffect: t.float({ nullable: true, description: 'Change from the value’s own rate.', resolve: (m) => m.rateEffect }),
    suppressed: t.exposeBoolean('suppressed'),
  }),
});

export const MetricChangeRef = builder.objectRef<MetricChangeExplanation>('MetricChangeExplanation').implement({
  fields: (t) => ({
    metric: t.exposeString('metric'),
    method: t.field({ type: ChangeMethodEnum, resolve: (e) => e.method }),
    baseRange: t.field({ type: ChangeRangeRef, resolve: (e) => e.baseRange }),
    currentRange: t.field({ type: ChangeRangeRef, resolve: (e) => e.currentRange }),
    base: t.float({
      nullable: true,
      description: 'The metric over the base period (with `forecast`: the mean of the periods before).',
      resolve: (e) => e.base,
    }),
    current: t.float({ nullable: true, resolve: (e) => e.current }),
    change: t.float({ nullable: true, resolve: (e) => e.change }),
    dimensions: t.field({ type: [ChangeDimensionRef], description: 'Ranked, most surprising first.', resolve: (e) => [...e.dimensions] }),
    contributions: t.field({ type: [ChangeContributionRef], resolve: (e) => [...e.contributions] }),
    explanations: t.field({ type: [ChangeExplanationRef], description: 'Ranked candidate causes.', resolve: (e) => [...e.explanations] }),
    mixRate: t.field({
      type: [MixRateRef],
      description: 'Ratio metrics: per dimension, the effects sum to the change exactly.',
      resolve: (e) => [...e.mixRate],
    }),
  }),
});

const ChangeRangeInput = builder.inputType('ChangeRangeInput', {
  description: 'Half-open `[from, to)` of reporting-zone days.',
  fields: (t) => ({ from: t.string({ required: true }), to: t.string({ required: true }) }),
});

const ExplainOptionsInput = builder.inputType('ExplainOptionsInput', {
  description: 'Thresholds of the ranking (defaults: 0.1, 0.67, 3, 3, 0.03).',
  fields: (t) => ({
    minElementPower: t.float({ description: 'Least explanatory power of a value to join a candidate set.' }),
    minSetPower: t.float({ description: 'Explanatory power a candidate set must reach.' }),
    maxMembers: t.int({ description: 'Most values in one candidate set.' }),
    maxExplanations: t.int({ description: 'Most candidate sets returned.' }),
    minChangeShare: t.float({ description: 'Values whose change is under this share of the total never explain it (ThirdEye: 3 %).' }),
  }),
});

export const ExplainMetricChangeInput = builder.inputType('ExplainMetricChangeInput', {
  fields: (t) => ({
    metric: t.string({ required: true }),
    base: t.field({ type: ChangeRangeInput, description: 'The period compared against; or give `forecastPeriods`.' }),
    current: t.field({ type: ChangeRangeInput, required: true }),
    forecastPeriods: t.int({ description: 'Instead of `base`: the mean of this many periods of the same length just before `current`.' }),
    dimensions: t.stringList({ required: true, description: 'Dimensions and tags (`customer.tag.<key>`) to explain the change by (1-10).' }),
    where: t.field({ type: FilterInputRef }),
    options: t.field({ type: ExplainOptionsInput }),
  }),
});

builder.queryField('explainMetricChange', (t) =>
  t.field({
    type: MetricChangeRef,
    description:
      'Why a metric moved between two periods: each dimension value’s contribution and share, Kitagawa mix and rate effects for ratio metrics, and candidate causes ranked by explanatory power and surprise (Adtributor). Every number through the semantic layer; small cells hidden with their complements.',
    args: { input: t.arg({ type: ExplainMetricChangeInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      if (input.base && input.forecastPeriods !== null && input.forecastPeriods !== undefined)
        throw new StrataError('BAD_USER_INPUT', 'give either `base` or `forecastPeriods`');
      const options = Object.fromEntries(Object.entries(input.options ?? {}).filter(([, v]) => v !== null && v !== undefined));
      const query: ExplainInput = {
        metric: input.metric,
        current: input.current,
        ...(input.base ? { base: input.base } : {}),
        ...(input.forecastPeriods !== null && input.forecastPeriods !== undefined ? { forecast: { periods: input.forecastPeriods } } : {}),
        dimensions: input.dimensions,
        ...(input.where ? { where: filterFromInput(input.where) } : {}),
        ...(Object.keys(options).length > 0 ? { options } : {}),
      };
      const { semantic, access } = await ctx.session();
      return ctx.analytics.run((db) => explainMetricChange(db, semantic, access, query));
    },
  }),
);
