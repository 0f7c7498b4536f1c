import { builder } from './builder.ts';
import { FilterInputRef, filterFromInput } from './filter-input.ts';
import { FreshnessRef, GroupByInput, TimeRangeInput } from './metrics.ts';
import type { Funnel, FunnelStep } from '../modeling/catalog/types.ts';
import type { FunnelGroupResult, FunnelResult, FunnelStepResult } from '../modeling/plan/compile-funnel-query.ts';
import type { FunnelAnswer } from '../modeling/semantic-layer.ts';
import type { FunnelQuery } from '../modeling/query/funnel-query.ts';
import { ruleToInput } from '../modeling/conditions/rule-to-input.ts';
import { StrataError } from '../modeling/errors.ts';
import { runFunnel } from '../services/funnels.ts';

const FunnelStepDefinitionRef = builder.objectRef<FunnelStep>('FunnelStepDefinition').implement({
  description: 'One step of a funnel: an event, optionally only the occurrences matching a filter.',
  fields: (t) => ({
    event: t.exposeString('event'),
    label: t.string({ nullable: true, resolve: (s) => s.label ?? null }),
    where: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The step filter in FilterInput form (`property.<name>` compares an event property).',
      resolve: (s) => (s.filter ? ruleToInput(s.filter as Parameters<typeof ruleToInput>[0]) : null),
    }),
  }),
});

const FunnelDefinitionRef = builder.objectRef<Funnel>('FunnelDefinition').implement({
  description: 'A funnel defined as code beside the metrics (`defineFunnel`): run it with `funnel(input: { funnel: key, timeRange })`.',
  fields: (t) => ({
    key: t.string({ resolve: (f) => f.name }),
    title: t.string({ resolve: (f) => f.label ?? f.name }),
    description: t.exposeString('description'),
    owner: t.exposeString('owner'),
    status: t.exposeString('status'),
    steps: t.field({ type: [FunnelStepDefinitionRef], resolve: (f) => [...f.steps] }),
    windowHours: t.exposeInt('windowHours'),
  }),
});

const FunnelStepResultRef = builder.objectRef<FunnelStepResult>('FunnelStepResult').implement({
  description: 'Customers reaching one step; counts under the privacy threshold are null (`suppressed`) for callers without personal clearance.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: '1-based.' }),
    event: t.exposeString('event'),
    label: t.string({ nullable: true, resolve: (s) => s.label ?? null }),
    customers: t.int({ nullable: true, resolve: (s) => s.customers }),
    conversionFromPrevious: t.float({
      nullable: true,
      description: 'customers / the previous step’s (1 for step 1).',
      resolve: (s) => s.conversionFromPrevious,
    }),
    conversionFromFirst: t.float({ nullable: true, description: 'customers / step 1’s.', resolve: (s) => s.conversionFromFirst }),
    medianSecondsFromPrevious: t.float({
      nullable: true,
      description: 'Median seconds from the matched event of the previous step (null for step 1).',
      resolve: (s) => s.medianSecondsFromPrevious,
    }),
    suppressed: t.exposeBoolean('suppressed'),
  }),
});

const FunnelGroupRef = builder.objectRef<FunnelGroupResult>('FunnelGroup').implement({
  fields: (t) => ({
    dimensions: t.field({ type: 'JSON', description: 'Group-by values keyed like metric result columns (`customer__channel`).', resolve: (g) => g.dimensions }),
    steps: t.field({ type: [FunnelStepResultRef], resolve: (g) => [...g.steps] }),
  }),
});

const FunnelPeriodRef = builder.objectRef<FunnelResult['timeRange']>('FunnelTimeRange').implement({
  fields: (t) => ({ from: t.exposeString('from'), to: t.exposeString('to') }),
});

const FunnelResultRef = builder.objectRef<FunnelAnswer>('FunnelResult').implement({
  fields: (t) => ({
    funnel: t.string({ nullable: true, description: 'The defined funnel run, if one was named.', resolve: (r) => r.funnel ?? null }),
    windowHours: t.exposeInt('windowHours'),
    timeRange: t.field({ type: FunnelPeriodRef, resolve: (r) => r.timeRange }),
    groups: t.field({ type: [FunnelGroupRef], description: 'One per combination of group-by values (one without group-bys).', resolve: (r) => [...r.groups] }),
    freshness: t.field({
      type: FreshnessRef,
      description: 'Where the answer came from: a funnel rollup (the defined funnel over exactly one stored period and grouping) or raw events.',
      resolve: (r) => r.freshness,
    }),
  }),
});

const FunnelStepInput = builder.inputType('FunnelStepInput', {
  fields: (t) => ({
    event: t.string({ required: true, description: 'An event name of the catalog.' }),
    where: t.field({
      type: FilterInputRef,
      description: 'Only occurrences matching this: dimensions of the event model, or `property.<name>` for an event property.',
    }),
    label: t.string(),
  }),
});

export const FunnelInput = builder.inputType('FunnelInput', {
  description:
    'A customer enters at their first occurrence of step 1 in the time range; step n counts when an event of step n occurs strictly after the occurrence matched for step n-1 and at most `windowHours` after the entry (each step matched by its earliest such occurrence).',
  fields: (t) => ({
    funnel: t.string({ description: 'A funnel defined as code (`funnels`): its steps and window, unless given here.' }),
    steps: t.field({ type: [FunnelStepInput] }),
    windowHours: t.int(),
    timeRange: t.field({ type: TimeRangeInput, required: true, description: 'The entries counted: `[from, to)`.' }),
    groupBy: t.field({
      type: [GroupByInput],
      description: 'Customer dimensions, tags (`customer.tag.<key>`), event dimensions of the entry, or metric_time of the entry.',
    }),
    where: t.field({ type: FilterInputRef, description: 'Chooses the events of every step: customer dimensions and tags choose the customers.' }),
    useRollups: t.boolean({
      description:
        'Default true: a defined funnel over exactly one period and grouping a funnel rollup stores is read from it when fresh; false reads raw events.',
    }),
  }),
});

/** The GraphQL input as a funnel query (filters through the one condition language). */
export function funnelQueryOf(input: typeof FunnelInput.$inferInput): FunnelQuery {
  if (!input.timeRange.from || !input.timeRange.to) throw new StrataError('BAD_USER_INPUT', 'a funnel needs `timeRange` with `from` and `to`');
  return {
    ...(input.funnel ? { funnel: input.funnel } : {}),
    ...(input.steps
      ? {
          steps: input.steps.map((s, i) => ({
            event: s.event,
            ...(s.label ? { label: s.label } : {}),
            ...(s.where ? { filter: filterFromInput(s.where, `steps[${i}].where`) } : {}),
          })),
        }
      : {}),
    ...(input.windowHours !== null && input.windowHours !== undefined ? { windowHours: input.windowHours } : {}),
    timeRange: { from: input.timeRange.from, to: input.timeRange.to },
    ...(input.groupBy
      ? {
          groupBy: input.groupBy.map((g) => ({
            dimension: g.dimension,
            ...(g.grain ? { grain: g.grain } : {}),
            ...(g.datePart ? { datePart: g.datePart } : {}),
          })),
        }
      : {}),
    ...(input.where ? { where: filterFromInput(input.where) } : {}),
    ...(input.useRollups === false ? { useRollups: false } : {}),
  };
}

builder.queryFields((t) => ({
  funnels: t.field({
    type: [FunnelDefinitionRef],
    description: 'The funnels defined as code beside the metrics (published and deprecated).',
    resolve: async (_r, _a, ctx) => {
      const { semantic } = await ctx.session();
      return (semantic.index.catalog.funnels ?? []).filter((f) => f.status !== 'ARCHIVED' && f.status !== 'DRAFT');
    },
  }),
  funnel: t.field({
    type: FunnelResultRef,
    description:
      'Ordered steps of events within a conversion window from entry, per group: customers, conversion from the previous step and from the first, median time between steps. One set-based SQL statement.',
    args: { input: t.arg({ type: FunnelInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const query = funnelQueryOf(input);
      const { semantic, access } = await ctx.session();
      return ctx.analytics.run((db) => runFunnel(db, semantic, ctx.domain, access, query));
    },
  }),
}));
