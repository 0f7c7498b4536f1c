import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { definitionHistory, listDefinitions, type HistoryEntry, type StoredDefinition } from '../store/definition-store.ts';
import { publishedOf, reviewedDefinitions, type ReviewContext, type ReviewedBody } from '../store/reviewed-definitions.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';
import type { QueryAccess, SemanticLayer } from '../modeling/semantic-layer.ts';
import { monitorShapeProblems, type Monitor, type MonitorSchedule } from '../modeling/dsl/define-monitor.ts';
import { resolveRelativeRange } from '../modeling/dsl/define-dashboard.ts';
import { dataLastCompleteDay } from './dashboards.ts';
import { explainMetricChange, resolveExplainInput, type DateRange, type MetricChangeExplanation } from './metric-change.ts';

export interface MonitorView {
  readonly monitor: Monitor;
  readonly source: 'CODE' | 'OPERATOR';
  /** PUBLISHED (served and evaluated), or a draft's DRAFT / IN_REVIEW / RETIRED when listed with drafts. */
  readonly status: string;
  readonly version: number;
  readonly updatedBy: string | null;
}

export interface MonitorEvaluation {
  readonly monitorKey: string;
  readonly period: DateRange;
  readonly at: Date;
  readonly value: number | null;
  readonly expected: number | null;
  readonly fired: boolean;
  readonly reason: string | null;
  readonly explanation: MetricChangeExplanation | null;
  readonly delivery: { readonly status: string; readonly attempts: number; readonly lastError: string | null } | null;
}

const KIND = 'monitor';
/** The advisory lock of the monitor scheduler ('STRATAMN' as a 64-bit number): one instance evaluates at a time. */
export const MONITOR_LOCK = '6004234345560346958';
const DELIVERY_LOCK = '6004234345560346959';
/** Webhook deliveries tried at most this often, backing off exponentially from `deliveryBaseMs`. */
export const MAX_DELIVERY_ATTEMPTS = 5;

const review = reviewedDefinitions<Monitor>(KIND, 'monitor');

/**
 * The domain's monitors, then the operators' published ones (the versions the scheduler
 * evaluates); with `includeDrafts`, each operator monitor at its current version, drafts
 * and those under review included.
 */
export async function listMonitors(db: Kysely<DatabaseSchema>, domain: Domain, options: { includeDrafts?: boolean } = {}): Promise<MonitorView[]> {
  const stored = await listDefinitions<ReviewedBody<Monitor>>(db, KIND);
  const operators = stored.flatMap((s): MonitorView[] => {
    if (options.includeDrafts === true) return [{ monitor: s.body.spec, source: 'OPERATOR', status: s.status, version: s.version, updatedBy: s.updatedBy }];
    const published = publishedOf(s);
    if (!published || s.status === 'RETIRED') return [];
    return [{ monitor: published.spec, source: 'OPERATOR', status: 'PUBLISHED', version: published.version, updatedBy: s.updatedBy }];
  });
  return [
    ...(domain.monitors ?? []).map((monitor): MonitorView => ({ monitor, source: 'CODE', status: 'PUBLISHED', version: 1, updatedBy: null })),
    ...operators,
  ];
}

/** Checks a monitor against the catalog: its metric over its slice compiles, and its explanation dimensions slice the metric. */
export function checkMonitor(semantic: SemanticLayer, monitor: Monitor): void {
  const problems = monitorShapeProblems(monitor);
  if (problems.length > 0) throw new StrataError('BAD_USER_INPUT', `monitor ${quoteInput(monitor.key)}: ${problems.join('; ')}`);
  semantic.plan({ metrics: [monitor.metric], ...(monitor.slice ? { where: monitor.slice } : {}) });
  if (monitor.explainBy.length > 0)
    resolveExplainInput(semantic, {
      metric: monitor.metric,
      base: { from: '2026-01-01', to: '2026-02-01' },
      current: { from: '2026-02-01', to: '2026-03-01' },
      dimensions: monitor.explainBy,
      ...(monitor.slice ? { where: monitor.slice } : {}),
    });
}

export interface MonitorCurationContext {
  readonly db: Kysely<DatabaseSchema>;
  readonly actor: string;
  readonly semantic: SemanticLayer;
  readonly domain: Domain;
}

function reviewContext(context: MonitorCurationContext): ReviewContext<Monitor> {
  return { db: context.db, actor: context.actor, check: (monitor) => checkMonitor(context.semantic, monitor) };
}

function draftView(stored: StoredDefinition<ReviewedBody<Monitor>>): MonitorView {
  return { monitor: stored.body.spec, source: 'OPERATOR', status: stored.status, version: stored.version, updatedBy: stored.updatedBy };
}

/**
 * Creates (no `expectedVersion`) or changes an operator's monitor as a DRAFT: a monitor is a
 * governed definition, evaluated (and posting to its webhook) only once another operator or
 * an approver has approved it; a published monitor keeps its approved version meanwhile.
 */
export async function saveMonitor(context: MonitorCurationContext, monitor: Monitor, expectedVersion: number | null): Promise<MonitorView> {
  if (context.domain.monitors?.some((m) => m.key === monitor.key)) throw new StrataError('CONFLICT', `monitor ${quoteInput(monitor.key)} is defined as code`);
  return draftView(await review.save(reviewContext(context), monitor.key, monitor, expectedVersion));
}

/** DRAFT -> IN_REVIEW. */
export async function submitMonitor(context: MonitorCurationContext, key: string, expectedVersion: number): Promise<MonitorView> {
  return draftView(await review.submit(reviewContext(context), key, expectedVersion));
}

/** IN_REVIEW -> PUBLISHED by someone who authored none of the version (four eyes), checked again against today's catalog. */
export async function approveMonitor(context: MonitorCurationContext, key: string, expectedVersion: number): Promise<MonitorView> {
  return draftView(await review.approve(reviewContext(context), key, expectedVersion));
}

/** IN_REVIEW -> DRAFT with the reviewer's reason. */
export async function rejectMonitor(context: MonitorCurationContext, key: string, expectedVersion: number, reason: string): Promise<MonitorView> {
  return draftView(await review.reject(reviewContext(context), key, expectedVersion, reason));
}

export const monitorHistory = (db: Kysely<DatabaseSchema>, key: string): Promise<HistoryEntry[]> => definitionHistory(db, KIND, key);

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const GRAIN = { DAILY: 'DAY', WEEKLY: 'WEEK', MONTHLY: 'MONTH' } as const;

/** The last complete period of a schedule's grain up to the data's last complete day. */
export function monitorPeriod(schedule: MonitorSchedule, lastDay: string): DateRange {
  return resolveRelativeRange({ grain: GRAIN[schedule], periods: 1 }, lastDay);
}

/** The same period `i` cycles back: the same weekday `i` weeks back (daily), `i` weeks or months back. */
function cycleBack(schedule: MonitorSchedule, period: DateRange, i: number): DateRange {
  if (schedule === 'MONTHLY') return resolveRelativeRange({ grain: 'MONTH', periods: 1, offset: i }, addDays(period.to, -1));
  return { from: addDays(period.from, -7 * i), to: addDays(period.to, -7 * i) };
}

/** Reads one metric value through the semantic layer (small cells null). */
async function valueOf(db: Kysely<any>, semantic: SemanticLayer, access: QueryAccess, monitor: Monitor, range: DateRange): Promise<number | null> {
  const { rows } = await semantic.query(db, { metrics: [monitor.metric], timeRange: range, ...(monitor.slice ? { where: monitor.slice } : {}) }, access);
  const value = rows[0]?.[monitor.metric];
  return value === null || value === undefined ? null : Number(value);
}

/** Evaluates a monitor on one period: its value, what was expected, whether it fires and why, and the explanation of a firing. */
export async function evaluateMonitor(
  db: Kysely<any>,
  semantic: SemanticLayer,
  access: QueryAccess,
  monitor: Monitor,
  period: DateRange,
): Promise<Omit<MonitorEvaluation, 'at' | 'delivery'>> {
  const value = await valueOf(db, semantic, access, monitor, period);
  const c = monitor.condition;
  let expected: number | null = null;
  let reason: string | null = null;
  if (c.kind === 'THRESHOLD') {
    if (value !== null && c.below !== undefined && value < c.below) [expected, reason] = [c.below, `${value} is below ${c.below}`];
    else if (value !== null && c.above !== undefined && value > c.above) [expected, reason] = [c.above, `${value} is above ${c.above}`];
    else expected = c.below ?? c.above ?? null;
  } else {
    const history = await Promise.all(
      Array.from({ length: c.periods }, (_, i) => valueOf(db, semantic, access, monitor, cycleBack(monitor.schedule, period, i + 1))),
    );
    const known = history.filter((v): v is number => v !== null);
    expected = known.length === 0 ? null : known.reduce((s, v) => s + v, 0) / known.length;
    if (value !== null && expected !== null && Math.abs(value - expected) > c.tolerance * Math.abs(expected))
      reason = `${value} is more than ${c.tolerance * 100} % away from the baseline ${expected} (mean of ${known.length} periods)`;
  }
  const fired = reason !== null;
  const explanation =
    fired && monitor.explainBy.length > 0
      ? await explainMetricChange(db, semantic, access, {
          metric: monitor.metric,
          base: cycleBack(monitor.schedule, period, 1),
          current: period,
          dimensions: monitor.explainBy,
          ...(monitor.slice ? { where: monitor.slice } : {}),
        })
      : null;
  return { monitorKey: monitor.key, period, value, expected, fired, reason, explanation };
}

export interface MonitorDeps {
  readonly db: Kysely<DatabaseSchema>;
  readonly semantic: () => Promise<SemanticLayer>;
  readonly domain: Domain;
  /** Small cells under this many customers are null in stored evaluations (the server's privacy threshold). */
  readonly privacyK: number;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
  /** First retry delay of a webhook delivery (doubling after each failure). */
  readonly deliveryBaseMs?: number;
  readonly onError?: (error: unknown) => void;
}

export interface MonitorRun {
  /** False when another instance held the lock. */
  readonly ran: boolean;
  readonly evaluated: number;
  readonly fired: number;
  readonly delivered: number;
}

/**
 * Evaluates every monitor whose current period (the last complete day, week or month of the
 * data) has no evaluation yet, then delivers pending webhooks. Under a PostgreSQL advisory
 * lock held by one transaction: another instance finds it taken and does nothing; the
 * primary key on (monitor, period) makes a period evaluated once even so.
 */
export async function runDueMonitors(deps: MonitorDeps): Promise<MonitorRun> {
  const now = deps.now?.() ?? new Date();
  const semantic = await deps.semantic();
  const access: QueryAccess = { clearance: 'internal', minSubjects: deps.privacyK };
  const monitors = await listMonitors(deps.db, deps.domain);
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ got: boolean }>`SELECT pg_try_advisory_xact_lock(CAST(${MONITOR_LOCK} AS bigint)) AS got`.execute(trx);
    if (!rows[0]?.got) return { ran: false, evaluated: 0, fired: 0 };
    const lastDay = await dataLastCompleteDay(trx, semantic, now);
    let evaluated = 0;
    let fired = 0;
    for (const { monitor } of monitors) {
      const period = monitorPeriod(monitor.schedule, lastDay);
      const done = await trx
        .selectFrom('strata.monitor_evaluations')
        .select('fired')
        .where('monitor_key', '=', monitor.key)
        .where('period_from', '=', period.from)
        .executeTakeFirst();
      if (done) continue;
      let evaluation: Awaited<ReturnType<typeof evaluateMonitor>>;
      try {
        evaluation = await evaluateMonitor(trx, semantic, access, monitor, period);
      } catch (error) {
        // A monitor whose metric no longer compiles is skipped, not the others.
        deps.onError?.(error);
        continue;
      }
      const inserted = await trx
        .insertInto('strata.monitor_evaluations')
        .values({
          monitor_key: monitor.key,
          period_from: period.from,
          period_to: period.to,
          value: evaluation.value,
          expected: evaluation.expected,
          fired: evaluation.fired,
          reason: evaluation.reason,
          explanation: evaluation.explanation === null ? null : JSON.stringify(evaluation.explanation),
          delivery_status: evaluation.fired && monitor.webhook ? 'pending' : null,
          next_delivery_at: evaluation.fired && monitor.webhook ? now : null,
        })
        .onConflict((oc) => oc.columns(['monitor_key', 'period_from']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) continue;
      evaluated++;
      if (evaluation.fired) fired++;
    }
    return { ran: true, evaluated, fired };
  });
  const delivered = await deliverPending(deps, monitors, now);
  return { ...outcome, delivered };
}

/** Posts pending firings to their webhooks (one instance at a time); a failure is retried later with exponential backoff. */
async function deliverPending(deps: MonitorDeps, monitors: readonly MonitorView[], now: Date): Promise<number> {
  const byKey = new Map(monitors.map((m) => [m.monitor.key, m.monitor]));
  const post = deps.fetch ?? fetch;
  const base = deps.deliveryBaseMs ?? 30_000;
  return deps.db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ got: boolean }>`SELECT pg_try_advisory_xact_lock(CAST(${DELIVERY_LOCK} AS bigint)) AS got`.execute(trx);
    if (!rows[0]?.got) return 0;
    const pending = await trx
      .selectFrom('strata.monitor_evaluations')
      .selectAll()
      .where('delivery_status', '=', 'pending')
      .where('next_delivery_at', '<=', now)
      .orderBy('next_delivery_at')
      .limit(50)
      .execute();
    let delivered = 0;
    for (const row of pending) {
      const monitor = byKey.get(row.monitor_key);
      const attempts = Number(row.delivery_attempts) + 1;
      let error: string | null = null;
      if (!monitor?.webhook) error = 'the monitor has no webhook any more';
      else {
        try {
          const response = await post(monitor.webhook, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(firingPayload(monitor, row)),
            signal: AbortSignal.timeout(10_000),
          });
          if (!response.ok) error = `HTTP ${response.status}`;
        } catch (failure) {
          error = failure instanceof Error ? failure.message : String(failure);
        }
      }
      const done = error === null;
      const givenUp = !done && (attempts >= MAX_DELIVERY_ATTEMPTS || !monitor?.webhook);
      await trx
        .updateTable('strata.monitor_evaluations')
        .set({
          delivery_status: done ? 'delivered' : givenUp ? 'failed' : 'pending',
          delivery_attempts: attempts,
          last_delivery_error: error,
          next_delivery_at: done || givenUp ? null : new Date(now.getTime() + base * 2 ** (attempts - 1)),
        })
        .where('monitor_key', '=', row.monitor_key)
        .where('period_from', '=', row.period_from)
        .execute();
      if (done) delivered++;
    }
    return delivered;
  });
}

function firingPayload(
  monitor: Monitor,
  row: { period_from: string; period_to: string; value: number | null; expected: number | null; reason: string | null; explanation: unknown },
) {
  const explanation = (typeof row.explanation === 'string' ? JSON.parse(row.explanation) : row.explanation) as MetricChangeExplanation | null;
  return {
    monitor: monitor.key,
    title: monitor.title,
    metric: monitor.metric,
    period: { from: row.period_from, to: row.period_to },
    value: row.value,
    expected: row.expected,
    reason: row.reason,
    explanations: explanation?.explanations ?? [],
  };
}

/** A monitor's evaluations (or only its firings), latest period first. */
export async function monitorEvaluations(
  db: Kysely<DatabaseSchema>,
  key: string,
  options: { firedOnly: boolean; first: number },
): Promise<MonitorEvaluation[]> {
  let query = db.selectFrom('strata.monitor_evaluations').selectAll().where('monitor_key', '=', key);
  if (options.firedOnly) query = query.where('fired', '=', true);
  const rows = await query.orderBy('period_from', 'desc').limit(options.first).execute();
  return rows.map((r) => ({
    monitorKey: r.monitor_key,
    period: { from: r.period_from, to: r.period_to },
    at: r.evaluated_at,
    value: r.value === null ? null : Number(r.value),
    expected: r.expected === null ? null : Number(r.expected),
    fired: r.fired,
    reason: r.reason,
    explanation: (typeof r.explanation === 'string' ? JSON.parse(r.explanation) : r.explanation) as MetricChangeExplanation | null,
    delivery: r.delivery_status ? { status: r.delivery_status, attempts: Number(r.delivery_attempts), lastError: r.last_delivery_error } : null,
  }));
}

/** Runs `runDueMonitors` every `intervalMs` inside the server process (never two at once in one process). */
export function createMonitorScheduler(deps: MonitorDeps, intervalMs: number) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<MonitorRun | undefined> | undefined;
  const tick = (): Promise<MonitorRun | undefined> => {
    running ??= runDueMonitors(deps)
      .catch((error: unknown) => {
        deps.onError?.(error);
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return {
    tick,
    start(): void {
      if (intervalMs <= 0 || timer) return;
      timer = setInterval(() => void tick(), intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
