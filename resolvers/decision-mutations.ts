import { builder } from './builder.ts';
import * as curation from '../services/decision-curation.ts';
import { RuleInput } from './rule-input.ts';
import { CalendarPeriodEnum, DecisionChangeRef, DecisionKindEnum, FatigueScopeEnum, curating } from './decision-definitions.ts';
import type { ContentSpec, DecisionKind, ExperimentSpec, PlacementSpec, StrategySpec } from '../decisioning/definitions.ts';

const kindOf = (value: string) => value.toLowerCase() as DecisionKind;

const FatigueRuleInput = builder.inputType('FatigueRuleInput', {
  description: 'Give windowDays (a rolling window of whole days including today) or period (DAY, WEEK, MONTH of the reporting time zone).',
  fields: (t) => ({
    scope: t.field({ type: FatigueScopeEnum, required: true, description: 'PLACEMENT (every content counts) or CONTENT (each content counts on its own).' }),
    maxImpressions: t.int({ required: true }),
    windowDays: t.int(),
    period: t.field({ type: CalendarPeriodEnum }),
  }),
});

const PlacementInput = builder.inputType('PlacementInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    channel: t.string({ required: true, description: 'The channel the placement lives in, e.g. `app`.' }),
    page: t.string({ required: true }),
    description: t.string({ required: true }),
    slots: t.int({ description: 'Default 1.' }),
    contentSchema: t.field({ type: 'JSON', required: true, description: 'A JSON Schema every content payload must satisfy.' }),
    fallback: t.string({ required: true, description: 'The key of the fallback content (always eligible, never capped).' }),
    fatigue: t.field({ type: [FatigueRuleInput] }),
  }),
});

const ContentInput = builder.inputType('ContentInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    placement: t.string({ required: true }),
    description: t.string({ required: true }),
    payload: t.field({ type: 'JSON', required: true, description: "Validated against the placement's contentSchema." }),
    validFrom: t.string({ description: 'ISO instant; unbounded when absent.' }),
    validTo: t.string({ description: 'ISO instant, exclusive; unbounded when absent.' }),
  }),
});

const StrategyInput = builder.inputType('StrategyInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    placement: t.string({ required: true }),
    description: t.string({ required: true }),
    audience: t.string({ description: 'A published audience; or give `rule`; neither: every known customer.' }),
    rule: t.field({ type: RuleInput, description: 'A rule over published tags (the profile holds them).' }),
    contents: t.stringList({ description: 'Ordered: a content capped by fatigue passes to the next.' }),
    experiment: t.string({ description: 'A published experiment of the same placement, instead of contents.' }),
    priority: t.int({ description: 'Higher first; default 0.' }),
    trafficShare: t.float({ description: 'Share (0, 1] of the matching customers, deterministic by customer; default 1.' }),
    scheduleFrom: t.string(),
    scheduleTo: t.string(),
  }),
});

const VariantInput = builder.inputType('VariantInput', {
  fields: (t) => ({ key: t.string({ required: true }), weight: t.float({ required: true }), content: t.string({ required: true }) }),
});
const GoalInput = builder.inputType('ExperimentGoalInput', {
  fields: (t) => ({ metric: t.string(), event: t.string(), windowDays: t.int({ required: true }) }),
});
const ExperimentInput = builder.inputType('ExperimentInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    placement: t.string({ required: true }),
    description: t.string({ required: true }),
    seed: t.string({ description: 'Hash seed; default the key.' }),
    coverage: t.float({ description: 'Default 1.' }),
    variants: t.field({ type: [VariantInput], required: true, description: 'The first is the control.' }),
    holdoutShare: t.float(),
    goal: t.field({ type: GoalInput, required: true }),
    guardrails: t.stringList(),
  }),
});

const EXPECTED_VERSION = 'The version last seen, to change an existing definition; absent to create one.';

builder.mutationFields((t) => ({
  savePlacement: t.field({
    type: DecisionChangeRef,
    description: 'Creates (no expectedVersion) or changes a placement as a DRAFT.',
    args: { input: t.arg({ type: PlacementInput, required: true }), expectedVersion: t.arg.int({ description: EXPECTED_VERSION }) },
    resolve: (_r, { input, expectedVersion }, ctx) => {
      const spec: PlacementSpec = {
        ...input,
        slots: input.slots ?? 1,
        contentSchema: input.contentSchema as Record<string, unknown>,
        fatigue: (input.fatigue ?? []).map((f) => ({
          scope: f.scope,
          maxImpressions: f.maxImpressions,
          windowDays: f.windowDays ?? null,
          period: f.period ?? null,
        })),
      };
      return curating(ctx, (c) => curation.saveDecisionDraft(c, 'placement', spec, expectedVersion ?? null));
    },
  }),
  saveContent: t.field({
    type: DecisionChangeRef,
    description: 'Creates (no expectedVersion) or changes a content as a DRAFT.',
    args: { input: t.arg({ type: ContentInput, required: true }), expectedVersion: t.arg.int({ description: EXPECTED_VERSION }) },
    resolve: (_r, { input, expectedVersion }, ctx) => {
      const spec: ContentSpec = { ...input, payload: input.payload ?? null, validFrom: input.validFrom ?? null, validTo: input.validTo ?? null };
      return curating(ctx, (c) => curation.saveDecisionDraft(c, 'content', spec, expectedVersion ?? null));
    },
  }),
  saveStrategy: t.field({
    type: DecisionChangeRef,
    description: 'Creates (no expectedVersion) or changes a strategy as a DRAFT.',
    args: { input: t.arg({ type: StrategyInput, required: true }), expectedVersion: t.arg.int({ description: EXPECTED_VERSION }) },
    resolve: (_r, { input, expectedVersion }, ctx) => {
      const spec: StrategySpec = {
        key: input.key,
        placement: input.placement,
        description: input.description,
        audience: input.audience ?? null,
        rule: (input.rule ?? null) as Record<string, unknown> | null,
        contents: input.contents ?? [],
        experiment: input.experiment ?? null,
        priority: input.priority ?? 0,
        trafficShare: input.trafficShare ?? 1,
        scheduleFrom: input.scheduleFrom ?? null,
        scheduleTo: input.scheduleTo ?? null,
      };
      return curating(ctx, (c) => curation.saveDecisionDraft(c, 'strategy', spec, expectedVersion ?? null));
    },
  }),
  saveExperiment: t.field({
    type: DecisionChangeRef,
    description: 'Creates (no expectedVersion) or changes an experiment as a DRAFT.',
    args: { input: t.arg({ type: ExperimentInput, required: true }), expectedVersion: t.arg.int({ description: EXPECTED_VERSION }) },
    resolve: (_r, { input, expectedVersion }, ctx) => {
      const spec: ExperimentSpec = {
        key: input.key,
        placement: input.placement,
        description: input.description,
        seed: input.seed ?? input.key,
        coverage: input.coverage ?? 1,
        variants: input.variants,
        holdoutShare: input.holdoutShare ?? null,
        goal: { metric: input.goal.metric ?? null, event: input.goal.event ?? null, windowDays: input.goal.windowDays },
        guardrails: input.guardrails ?? [],
      };
      return curating(ctx, (c) => curation.saveDecisionDraft(c, 'experiment', spec, expectedVersion ?? null));
    },
  }),
  submitDecisionDefinition: t.field({
    type: DecisionChangeRef,
    description: 'DRAFT -> IN_REVIEW.',
    args: { kind: t.arg({ type: DecisionKindEnum, required: true }), key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }) },
    resolve: (_r, { kind, key, expectedVersion }, ctx) => curating(ctx, (c) => curation.submitDecision(c, kindOf(kind), key, expectedVersion)),
  }),
  approveDecisionDefinition: t.field({
    type: DecisionChangeRef,
    description: 'IN_REVIEW -> PUBLISHED, by another operator or an approver than its authors; served at once on every instance.',
    args: { kind: t.arg({ type: DecisionKindEnum, required: true }), key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }) },
    resolve: (_r, { kind, key, expectedVersion }, ctx) => curating(ctx, (c) => curation.approveDecision(c, kindOf(kind), key, expectedVersion)),
  }),
  rejectDecisionDefinition: t.field({
    type: DecisionChangeRef,
    description: 'IN_REVIEW -> DRAFT with a reason.',
    args: {
      kind: t.arg({ type: DecisionKindEnum, required: true }),
      key: t.arg.string({ required: true }),
      expectedVersion: t.arg.int({ required: true }),
      reason: t.arg.string({ required: true }),
    },
    resolve: (_r, { kind, key, expectedVersion, reason }, ctx) => curating(ctx, (c) => curation.rejectDecision(c, kindOf(kind), key, expectedVersion, reason)),
  }),
  retireDecisionDefinition: t.field({
    type: DecisionChangeRef,
    description: 'Stops serving a definition at once; its history stays.',
    args: { kind: t.arg({ type: DecisionKindEnum, required: true }), key: t.arg.string({ required: true }), reason: t.arg.string({ required: true }) },
    resolve: (_r, { kind, key, reason }, ctx) => curating(ctx, (c) => curation.retireDecision(c, kindOf(kind), key, reason)),
  }),
}));
