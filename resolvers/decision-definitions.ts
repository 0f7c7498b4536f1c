import { builder } from './builder.ts';
import { historyEntryType } from './history-entry.ts';
import type { RequestContext } from './context.ts';
import * as curation from '../services/decision-curation.ts';
import { decisionEnvironment } from '../services/decision-environment.ts';
import type { StoredDecision } from '../services/decision-registry.ts';
import { PLACEMENT_CLICK_EVENT, PLACEMENT_IMPRESSION_EVENT } from '../decisioning/placement-tracking.ts';
import {
  DECISION_KINDS,
  type ContentSpec,
  type DecisionKind,
  type ExperimentSpec,
  type FatigueRule,
  type PlacementSpec,
  type StrategySpec,
  type VariantSpec,
} from '../decisioning/definitions.ts';

export const DecisionKindEnum = builder.enumType('DecisionKind', {
  description: 'A kind of decision-layer definition.',
  values: DECISION_KINDS.map((k) => k.toUpperCase()) as ['PLACEMENT', 'CONTENT', 'STRATEGY', 'EXPERIMENT'],
});
const DecisionStatusEnum = builder.enumType('DecisionStatus', {
  description: 'Lifecycle of a decision definition: a PUBLISHED one is served by `decide` (a later draft keeps the published version serving until approved).',
  values: ['DRAFT', 'IN_REVIEW', 'PUBLISHED', 'RETIRED'] as const,
});
const ExperimentStatusEnum = builder.enumType('ExperimentStatus', {
  description: 'DRAFT, IN_REVIEW, RUNNING (published) or STOPPED (retired or promoted).',
  values: ['DRAFT', 'IN_REVIEW', 'RUNNING', 'STOPPED'] as const,
});
export const FatigueScopeEnum = builder.enumType('FatigueScope', { values: ['PLACEMENT', 'CONTENT'] as const });
export const CalendarPeriodEnum = builder.enumType('CalendarPeriod', {
  description: 'A calendar period of the reporting time zone; weeks start on Monday.',
  values: ['DAY', 'WEEK', 'MONTH'] as const,
});

const kindOf = (value: string) => value.toLowerCase() as DecisionKind;
type Status = 'DRAFT' | 'IN_REVIEW' | 'PUBLISHED' | 'RETIRED';

/** A stored definition with the spec to show: the working spec, its status and version. */
interface Shown<S> {
  readonly spec: S;
  readonly status: Status;
  readonly version: number;
  readonly live: boolean;
}

const shown = <S>(d: StoredDecision<DecisionKind>): Shown<S> => ({
  spec: d.body.spec as S,
  status: d.status as Status,
  version: d.version,
  live: d.body.published !== null && d.status !== 'RETIRED',
});

async function storedOf<K extends DecisionKind>(ctx: RequestContext, kind: K): Promise<StoredDecision<K>[]> {
  const { registry } = await ctx.decisions.cache.current();
  return [...registry.stored[kind]] as StoredDecision<K>[];
}

const lifecycle = <S>(t: PothosSchemaTypes.ObjectFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<{}>, Shown<S>>) => ({
  status: t.field({ type: DecisionStatusEnum, resolve: (d: Shown<S>) => d.status }),
  version: t.int({ resolve: (d: Shown<S>) => d.version }),
  live: t.boolean({ description: 'Whether `decide` serves a published version of it now.', resolve: (d: Shown<S>) => d.live }),
});

const FatigueRef = builder.objectRef<FatigueRule>('FatigueRule').implement({
  description: 'At most maxImpressions per customer in the window: the last windowDays days including today, or the current calendar period.',
  fields: (t) => ({
    scope: t.field({ type: FatigueScopeEnum, resolve: (r) => r.scope }),
    maxImpressions: t.exposeInt('maxImpressions'),
    windowDays: t.int({ nullable: true, resolve: (r) => r.windowDays }),
    period: t.field({ type: CalendarPeriodEnum, nullable: true, resolve: (r) => r.period }),
  }),
});

export const ContentRef = builder.objectRef<Shown<ContentSpec>>('Content').implement({
  description: 'What a placement shows: a payload valid against its placement schema.',
  fields: (t) => ({
    key: t.string({ resolve: (c) => c.spec.key }),
    placement: t.string({ resolve: (c) => c.spec.placement }),
    description: t.string({ resolve: (c) => c.spec.description }),
    payload: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.spec.payload }),
    validFrom: t.string({ nullable: true, resolve: (c) => c.spec.validFrom }),
    validTo: t.string({ nullable: true, resolve: (c) => c.spec.validTo }),
    ...lifecycle(t as never),
  }),
});

const contentByKey = async (ctx: RequestContext, key: string): Promise<Shown<ContentSpec> | null> => {
  const found = (await storedOf(ctx, 'content')).find((c) => c.key === key);
  return found ? shown<ContentSpec>(found) : null;
};

const TrackingRef = builder.objectRef<PlacementSpec>('PlacementTracking').implement({
  description: 'The events a placement generates (锚定埋点): the typed client has a tracking function per placement.',
  fields: (t) => ({
    impressionEvent: t.string({ description: 'Logged by `decide` for every decision.', resolve: () => PLACEMENT_IMPRESSION_EVENT }),
    clickEvent: t.string({ description: 'Sent by the app on a click, with the decision id.', resolve: () => PLACEMENT_CLICK_EVENT }),
  }),
});

const PlacementRef = builder.objectRef<Shown<PlacementSpec>>('Placement').implement({
  description: 'A slot of an app page (展位) that shows content chosen by `decide`.',
  fields: (t) => ({
    key: t.string({ resolve: (p) => p.spec.key }),
    channel: t.string({ resolve: (p) => p.spec.channel }),
    page: t.string({ resolve: (p) => p.spec.page }),
    description: t.string({ resolve: (p) => p.spec.description }),
    slots: t.int({ resolve: (p) => p.spec.slots }),
    contentSchema: t.field({ type: 'JSON', description: 'The JSON Schema of content payloads.', resolve: (p) => p.spec.contentSchema }),
    fallback: t.field({
      type: ContentRef,
      nullable: true,
      description: 'The fallback content (兜底).',
      resolve: (p, _a, ctx) => contentByKey(ctx, p.spec.fallback),
    }),
    fatigue: t.field({ type: [FatigueRef], resolve: (p) => [...p.spec.fatigue] }),
    tracking: t.field({ type: TrackingRef, resolve: (p) => p.spec }),
    ...lifecycle(t as never),
  }),
});

const ScheduleRef = builder.objectRef<StrategySpec>('Schedule').implement({
  fields: (t) => ({
    from: t.string({ nullable: true, resolve: (s) => s.scheduleFrom }),
    to: t.string({ nullable: true, resolve: (s) => s.scheduleTo }),
  }),
});

const StrategyRef = builder.objectRef<Shown<StrategySpec>>('Strategy').implement({
  description: 'Who sees what in a placement: targeting, ordered contents or an experiment, priority, traffic share, schedule.',
  fields: (t) => ({
    key: t.string({ resolve: (s) => s.spec.key }),
    placement: t.string({ resolve: (s) => s.spec.placement }),
    description: t.string({ resolve: (s) => s.spec.description }),
    audience: t.string({ nullable: true, resolve: (s) => s.spec.audience }),
    rule: t.field({ type: 'JSON', nullable: true, description: 'A rule over published tags, in the form createTag takes.', resolve: (s) => s.spec.rule }),
    contents: t.stringList({ resolve: (s) => [...s.spec.contents] }),
    experiment: t.string({ nullable: true, resolve: (s) => s.spec.experiment }),
    priority: t.int({ resolve: (s) => s.spec.priority }),
    trafficShare: t.float({ resolve: (s) => s.spec.trafficShare }),
    schedule: t.field({ type: ScheduleRef, resolve: (s) => s.spec }),
    ...lifecycle(t as never),
  }),
});

const VariantRef = builder.objectRef<VariantSpec>('Variant').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    weight: t.exposeFloat('weight'),
    content: t.field({ type: ContentRef, nullable: true, resolve: (v, _a, ctx) => contentByKey(ctx, v.content) }),
  }),
});

const GoalRef = builder.objectRef<ExperimentSpec['goal']>('ExperimentGoal').implement({
  description: 'A semantic-layer metric, or a conversion event within windowDays after first exposure.',
  fields: (t) => ({
    metric: t.string({ nullable: true, resolve: (g) => g.metric }),
    event: t.string({ nullable: true, resolve: (g) => g.event }),
    windowDays: t.exposeInt('windowDays'),
  }),
});

const experimentStatus = (e: Shown<ExperimentSpec>) =>
  e.status === 'PUBLISHED' ? 'RUNNING' : e.status === 'RETIRED' ? 'STOPPED' : e.live ? 'RUNNING' : (e.status as 'DRAFT' | 'IN_REVIEW');

const ExperimentRef = builder.objectRef<Shown<ExperimentSpec>>('Experiment').implement({
  description: "An A/B test in a placement with GrowthBook's hash v2 assignment; the first variant is the control.",
  fields: (t) => ({
    key: t.string({ resolve: (e) => e.spec.key }),
    placement: t.string({ resolve: (e) => e.spec.placement }),
    description: t.string({ resolve: (e) => e.spec.description }),
    status: t.field({ type: ExperimentStatusEnum, resolve: experimentStatus }),
    definitionStatus: t.field({ type: DecisionStatusEnum, resolve: (e) => e.status }),
    seed: t.string({ resolve: (e) => e.spec.seed }),
    hashVersion: t.int({ resolve: () => 2 }),
    coverage: t.float({ resolve: (e) => e.spec.coverage }),
    holdoutShare: t.float({ nullable: true, resolve: (e) => e.spec.holdoutShare }),
    variants: t.field({ type: [VariantRef], resolve: (e) => [...e.spec.variants] }),
    goal: t.field({ type: GoalRef, resolve: (e) => e.spec.goal }),
    guardrails: t.stringList({ resolve: (e) => [...e.spec.guardrails] }),
    version: t.int({ resolve: (e) => e.version }),
    live: t.boolean({ resolve: (e) => e.live }),
  }),
});

export const DecisionChangeRef = builder.objectRef<StoredDecision<DecisionKind>>('DecisionChange').implement({
  description: 'A decision definition after a change.',
  fields: (t) => ({
    kind: t.field({ type: DecisionKindEnum, resolve: (d) => d.kind.toUpperCase() as 'PLACEMENT' }),
    key: t.exposeString('key'),
    version: t.exposeInt('version'),
    status: t.field({ type: DecisionStatusEnum, resolve: (d) => d.status as Status }),
    updatedBy: t.exposeString('updatedBy'),
  }),
});

const DecisionHistoryRef = historyEntryType('DecisionHistoryEntry');

const notRetired = <K extends DecisionKind>(all: StoredDecision<K>[]) => all.filter((d) => d.status !== 'RETIRED');

builder.queryFields((t) => ({
  placements: t.field({
    type: [PlacementRef],
    description: 'Placements that are not retired, by key.',
    resolve: async (_r, _a, ctx) => notRetired(await storedOf(ctx, 'placement')).map((d) => shown<PlacementSpec>(d)),
  }),
  contents: t.field({
    type: [ContentRef],
    args: { placement: t.arg.string() },
    resolve: async (_r, { placement }, ctx) =>
      notRetired(await storedOf(ctx, 'content'))
        .map((d) => shown<ContentSpec>(d))
        .filter((c) => !placement || c.spec.placement === placement),
  }),
  strategies: t.field({
    type: [StrategyRef],
    args: { placement: t.arg.string() },
    resolve: async (_r, { placement }, ctx) =>
      notRetired(await storedOf(ctx, 'strategy'))
        .map((d) => shown<StrategySpec>(d))
        .filter((s) => !placement || s.spec.placement === placement),
  }),
  experiments: t.field({
    type: [ExperimentRef],
    description: 'Every experiment, stopped ones included (their results stay readable).',
    resolve: async (_r, _a, ctx) => (await storedOf(ctx, 'experiment')).map((d) => shown<ExperimentSpec>(d)),
  }),
  decisionHistory: t.field({
    type: [DecisionHistoryRef],
    args: { kind: t.arg({ type: DecisionKindEnum, required: true }), key: t.arg.string({ required: true }) },
    resolve: (_r, { kind, key }, ctx) => curation.decisionHistory(ctx.database.db, kindOf(kind), key),
  }),
}));

/** The curation context of the caller; drops this process's cache after the change (other instances hear the NOTIFY). */
export async function curating<T>(ctx: RequestContext, work: (context: curation.DecisionCurationContext) => Promise<T>): Promise<T> {
  const { actor } = await ctx.session();
  const result = await work({
    db: ctx.database.db,
    changes: ctx.database.changes,
    actor,
    environment: () => decisionEnvironment(ctx.domain, ctx.tags),
  });
  ctx.decisions.cache.invalidate();
  return result;
}
