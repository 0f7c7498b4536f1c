import { builder } from './builder.ts';
import { FilterInputRef, filterFromInput } from './filter-input.ts';
import { MetricChangeRef } from './metric-change.ts';
import { ruleToInput } from '../modeling/conditions/rule-to-input.ts';
import { MONITOR_SCHEDULES, type Monitor, type MonitorCondition } from '../modeling/dsl/define-monitor.ts';
import { StrataError } from '../modeling/errors.ts';
import type { RequestContext } from './context.ts';
import { historyEntryType } from './history-entry.ts';
import { isAllowed } from '../services/authorization.ts';
import {
  approveMonitor,
  listMonitors,
  monitorEvaluations,
  monitorHistory,
  rejectMonitor,
  saveMonitor,
  submitMonitor,
  type MonitorCurationContext,
  type MonitorEvaluation,
  type MonitorRun,
  type MonitorView,
} from '../services/monitors.ts';

const MonitorScheduleEnum = builder.enumType('MonitorSchedule', {
  description: 'Evaluates the last complete day, week (from Monday) or month of the data.',
  values: MONITOR_SCHEDULES,
});
const MonitorSourceEnum = builder.enumType('MonitorSource', { values: ['CODE', 'OPERATOR'] as const });
const MonitorConditionKindEnum = builder.enumType('MonitorConditionKind', { values: ['THRESHOLD', 'SEASONAL'] as const });

const MonitorPeriodRef = builder.objectRef<MonitorEvaluation['period']>('MonitorPeriod').implement({
  fields: (t) => ({ from: t.exposeString('from'), to: t.exposeString('to') }),
});

const MonitorDeliveryRef = builder.objectRef<NonNullable<MonitorEvaluation['delivery']>>('MonitorDelivery').implement({
  description: 'The webhook delivery of a firing: pending (retried with backoff), delivered or failed (given up).',
  fields: (t) => ({
    status: t.exposeString('status'),
    attempts: t.exposeInt('attempts'),
    lastError: t.string({ nullable: true, resolve: (d) => d.lastError }),
  }),
});

const MonitorEvaluationRef = builder.objectRef<MonitorEvaluation>('MonitorEvaluation').implement({
  description: 'One evaluation of a monitor on one period; a firing when `fired`.',
  fields: (t) => ({
    at: t.string({ description: 'When it was evaluated.', resolve: (e) => new Date(e.at).toISOString() }),
    period: t.field({ type: MonitorPeriodRef, resolve: (e) => e.period }),
    value: t.float({ nullable: true, description: 'The metric over the period (null: no data, or under the privacy threshold).', resolve: (e) => e.value }),
    expected: t.float({ nullable: true, description: 'The seasonal baseline, or the threshold crossed.', resolve: (e) => e.expected }),
    fired: t.exposeBoolean('fired'),
    reason: t.string({ nullable: true, resolve: (e) => e.reason }),
    explanation: t.field({
      type: MetricChangeRef,
      nullable: true,
      description: 'Why it moved against the previous comparable period (the same weekday last week for a daily monitor), as `explainMetricChange` answers.',
      resolve: (e) => e.explanation,
    }),
    delivery: t.field({ type: MonitorDeliveryRef, nullable: true, resolve: (e) => e.delivery }),
  }),
});

const MonitorRef = builder.objectRef<MonitorView>('Monitor').implement({
  description: 'A metric (optionally sliced) watched on a schedule against a threshold or a seasonal baseline.',
  fields: (t) => ({
    key: t.string({ resolve: (m) => m.monitor.key }),
    title: t.string({ resolve: (m) => m.monitor.title }),
    description: t.string({ nullable: true, resolve: (m) => m.monitor.description ?? null }),
    metric: t.string({ resolve: (m) => m.monitor.metric }),
    slice: t.field({
      type: 'JSON',
      nullable: true,
      description: 'FilterInput form.',
      resolve: (m) => (m.monitor.slice ? (ruleToInput(m.monitor.slice as never) as never) : null),
    }),
    schedule: t.field({ type: MonitorScheduleEnum, resolve: (m) => m.monitor.schedule }),
    condition: t.field({
      type: 'JSON',
      description: '{ kind: THRESHOLD, below?, above? } or { kind: SEASONAL, periods, tolerance }.',
      resolve: (m) => m.monitor.condition as never,
    }),
    explainBy: t.stringList({ resolve: (m) => [...m.monitor.explainBy] }),
    webhookHost: t.string({
      nullable: true,
      description: 'The host firings are posted to (the full URL may hold a secret).',
      resolve: (m) => (m.monitor.webhook ? new URL(m.monitor.webhook).host : null),
    }),
    source: t.field({ type: MonitorSourceEnum, resolve: (m) => m.source }),
    status: t.string({
      description: 'PUBLISHED (evaluated by the scheduler); with `includeDrafts`, an operator’s DRAFT, IN_REVIEW or RETIRED version.',
      resolve: (m) => m.status,
    }),
    version: t.int({ resolve: (m) => m.version }),
    updatedBy: t.string({ nullable: true, resolve: (m) => m.updatedBy }),
    evaluations: t.field({
      type: [MonitorEvaluationRef],
      args: { first: t.arg.int({ defaultValue: 10 }) },
      description: 'Latest period first.',
      resolve: (m, { first }, ctx) => monitorEvaluations(ctx.database.db, m.monitor.key, { firedOnly: false, first: clampFirst(first) }),
    }),
    firings: t.field({
      type: [MonitorEvaluationRef],
      args: { first: t.arg.int({ defaultValue: 10 }) },
      description: 'Evaluations that fired, latest period first.',
      resolve: (m, { first }, ctx) => monitorEvaluations(ctx.database.db, m.monitor.key, { firedOnly: true, first: clampFirst(first) }),
    }),
  }),
});

/** A webhook URL as its host: the full URL may hold a secret, so history shows the host as `Monitor.webhookHost` does. */
function hostOf(url: unknown): unknown {
  if (typeof url !== 'string') return url;
  try {
    return new URL(url).host;
  } catch {
    return '(hidden)';
  }
}

function hideWebhooks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hideWebhooks);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'webhook' ? hostOf(v) : hideWebhooks(v)]));
}

function clampFirst(first: number | null | undefined): number {
  if (first === null || first === undefined) return 10;
  if (!Number.isInteger(first) || first < 1 || first > 100) throw new StrataError('BAD_USER_INPUT', '`first` must be 1 to 100');
  return first;
}

const MonitorRunRef = builder.objectRef<MonitorRun>('MonitorRun').implement({
  fields: (t) => ({
    ran: t.exposeBoolean('ran', { description: 'False when another instance held the scheduler’s lock.' }),
    evaluated: t.exposeInt('evaluated'),
    fired: t.exposeInt('fired'),
    delivered: t.exposeInt('delivered'),
  }),
});

const MonitorConditionInput = builder.inputType('MonitorConditionInput', {
  fields: (t) => ({
    kind: t.field({ type: MonitorConditionKindEnum, required: true }),
    below: t.float(),
    above: t.float(),
    periods: t.int({ description: 'SEASONAL: how many past cycles the baseline averages (same weekday over N weeks for DAILY).' }),
    tolerance: t.float({ description: 'SEASONAL: fires beyond this share of the baseline.' }),
  }),
});

const MonitorInput = builder.inputType('MonitorInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    title: t.string({ required: true }),
    description: t.string(),
    metric: t.string({ required: true }),
    slice: t.field({ type: FilterInputRef }),
    schedule: t.field({ type: MonitorScheduleEnum, required: true }),
    condition: t.field({ type: MonitorConditionInput, required: true }),
    explainBy: t.stringList(),
    webhook: t.string({ description: 'http(s) URL firings are posted to, retried with backoff.' }),
  }),
});

const MonitorHistoryEntryRef = historyEntryType('MonitorHistoryEntry');

async function curation(ctx: RequestContext): Promise<MonitorCurationContext> {
  const { semantic, actor } = await ctx.session();
  return { db: ctx.database.db, actor, semantic, domain: ctx.domain };
}

builder.queryFields((t) => ({
  monitors: t.field({
    type: [MonitorRef],
    description: 'Monitors defined as code, then the operators’ published ones (those the scheduler evaluates); each with its evaluations and firings.',
    args: {
      includeDrafts: t.arg.boolean({
        description: 'Operators’ monitors at their current version, drafts and those under review included (monitors.manage and monitors.review roles).',
      }),
    },
    resolve: async (_r, { includeDrafts }, ctx) => {
      if (includeDrafts) {
        const { principal } = await ctx.session();
        if (!isAllowed(principal, 'monitors.manage') && !isAllowed(principal, 'monitors.review'))
          throw new StrataError('FORBIDDEN', 'seeing monitors under review needs an operator, approver or admin key');
      }
      return listMonitors(ctx.database.db, ctx.domain, { includeDrafts: includeDrafts === true });
    },
  }),
  monitorHistory: t.field({
    type: [MonitorHistoryEntryRef],
    description: 'Every change of an operator’s monitor (saved, submitted, approved, rejected), with who, when, why and the changed fields.',
    args: { key: t.arg.string({ required: true }) },
    resolve: async (_r, { key }, ctx) =>
      (await monitorHistory(ctx.database.db, key)).map((entry) => ({
        ...entry,
        diff: entry.diff.map((c) =>
          /(^|\.)webhook$/.test(c.path)
            ? { path: c.path, from: hostOf(c.from), to: hostOf(c.to) }
            : { ...c, from: hideWebhooks(c.from), to: hideWebhooks(c.to) },
        ),
      })),
  }),
}));

builder.mutationFields((t) => ({
  saveMonitor: t.field({
    type: MonitorRef,
    description:
      'Creates (no expectedVersion) or changes an operator’s monitor as a DRAFT; its metric, slice and explanation dimensions are checked against the catalog. It is evaluated once submitted and approved by someone else.',
    args: { input: t.arg({ type: MonitorInput, required: true }), expectedVersion: t.arg.int() },
    resolve: async (_r, { input, expectedVersion }, ctx) => {
      const c = input.condition;
      const condition: MonitorCondition =
        c.kind === 'THRESHOLD'
          ? { kind: 'THRESHOLD', ...(typeof c.below === 'number' ? { below: c.below } : {}), ...(typeof c.above === 'number' ? { above: c.above } : {}) }
          : { kind: 'SEASONAL', periods: c.periods ?? 0, tolerance: c.tolerance ?? 0 };
      const monitor: Monitor = {
        key: input.key,
        title: input.title,
        ...(input.description ? { description: input.description } : {}),
        metric: input.metric,
        ...(input.slice ? { slice: filterFromInput(input.slice, 'slice') } : {}),
        schedule: input.schedule,
        condition,
        explainBy: input.explainBy ?? [],
        ...(input.webhook ? { webhook: input.webhook } : {}),
      };
      return saveMonitor(await curation(ctx), monitor, expectedVersion ?? null);
    },
  }),
  submitMonitor: t.field({
    type: MonitorRef,
    description: 'DRAFT -> IN_REVIEW.',
    args: { key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }) },
    resolve: async (_r, { key, expectedVersion }, ctx) => submitMonitor(await curation(ctx), key, expectedVersion),
  }),
  approveMonitor: t.field({
    type: MonitorRef,
    description: 'IN_REVIEW -> PUBLISHED by someone who authored none of the version (four eyes); the scheduler evaluates it from then on.',
    args: { key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }) },
    resolve: async (_r, { key, expectedVersion }, ctx) => approveMonitor(await curation(ctx), key, expectedVersion),
  }),
  rejectMonitor: t.field({
    type: MonitorRef,
    description: 'IN_REVIEW -> DRAFT with the reviewer’s reason.',
    args: { key: t.arg.string({ required: true }), expectedVersion: t.arg.int({ required: true }), reason: t.arg.string({ required: true }) },
    resolve: async (_r, { key, expectedVersion, reason }, ctx) => rejectMonitor(await curation(ctx), key, expectedVersion, reason),
  }),
  runMonitors: t.field({
    type: MonitorRunRef,
    description: 'Evaluates due monitors now (as the scheduler does every STRATA_MONITOR_INTERVAL_MS) and delivers pending webhooks.',
    resolve: async (_r, _a, ctx) => (await ctx.monitors.tick()) ?? { ran: false, evaluated: 0, fired: 0, delivered: 0 },
  }),
}));
