import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SemanticLayer } from '../modeling/semantic-layer.ts';
import { planStatement } from '../modeling/sql/render-plan.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import {
  type Comparison,
  cupedTTest,
  type MomentSums,
  type SampleRatioCheck,
  sampleRatioMismatch,
  twoProportionZTest,
  welchTTest,
} from '../decisioning/statistics.ts';
import type { ExperimentInput } from './experiment-definitions.ts';

/** The event every decision logs; its `properties` carry `experiment` and `variant`. */
export const EXPOSURE_EVENT = 'placement_impression';

/** One variant's numbers; counts and statistics are null when suppressed (fewer than k customers). */
export interface VariantResult extends Partial<Comparison> {
  key: string;
  exposures: number | null;
  /** Event goal: customers with the goal event in the window. Metric goal: customers whose value in the window is positive. */
  conversions: number | null;
  /** Event goal: conversions / exposures. Metric goal: mean value per exposed customer. */
  rate: number | null;
  suppressed: boolean;
}

export interface CupedVariant extends Partial<Comparison> {
  key: string;
  theta: number | null;
  varianceReduction: number | null;
}

export interface MetricComparison {
  metric: string;
  variants: {
    key: string;
    mean: number | null;
    absoluteLift: number | null;
    relativeLift: number | null;
    ciLow: number | null;
    ciHigh: number | null;
    pValue: number | null;
    suppressed: boolean;
  }[];
}

export interface ExperimentResults {
  key: string;
  goal: { kind: 'EVENT' | 'METRIC'; name: string; windowDays: number; test: 'TWO_PROPORTION_Z' | 'WELCH_T' };
  variants: VariantResult[];
  srm: SampleRatioCheck | null;
  /** Customers exposed to more than one variant: left out of every number (like GrowthBook's multiple exposures); null when fewer than k. */
  multipleExposures: number | null;
  cuped: CupedVariant[];
  guardrails: MetricComparison[];
}

interface VariantSums extends Required<MomentSums> {
  positive: number;
}

/** Customers exposed to the experiment, one row each, with their variant and first exposure; those seen in two variants counted apart. */
function exposuresSql(key: string): RawBuilder<unknown> {
  return sql`seen AS (
      SELECT customer_id, MIN(properties ->> 'variant') AS v0, MAX(properties ->> 'variant') AS v1, MIN(occurred_at) AS first_at
      FROM wealth.app_events
      WHERE event_name = ${EXPOSURE_EVENT} AND (properties ->> 'experiment') = ${key} AND customer_id IS NOT NULL
      GROUP BY customer_id
    ), exposed AS (SELECT customer_id, v0 AS variant, first_at FROM seen WHERE v0 = v1)`;
}

type SumsRow = {
  variant: string | null;
  n: string | number;
  sum_y: number | null;
  sum_y2: number | null;
  sum_x: number | null;
  sum_x2: number | null;
  sum_xy: number | null;
  positive: string | number;
};

function toSums(rows: readonly SumsRow[]): { byVariant: Map<string, VariantSums>; multiple: number } {
  const byVariant = new Map<string, VariantSums>();
  let multiple = 0;
  for (const r of rows) {
    if (r.variant === null) {
      multiple = Number(r.n);
      continue;
    }
    byVariant.set(r.variant, {
      n: Number(r.n),
      sumY: Number(r.sum_y ?? 0),
      sumY2: Number(r.sum_y2 ?? 0),
      sumX: Number(r.sum_x ?? 0),
      sumX2: Number(r.sum_x2 ?? 0),
      sumXY: Number(r.sum_xy ?? 0),
      positive: Number(r.positive),
    });
  }
  return { byVariant, multiple };
}

/**
 * Event goal: per variant, exposed customers, those with the goal event in
 * `[first exposure, first exposure + windowDays)` (Y), and those with it in the same span
 * before the first exposure (X, CUPED's pre-exposure value). One statement.
 */
async function eventGoalSums(db: Kysely<any>, key: string, event: string, windowDays: number) {
  const window = sql`make_interval(days => ${windowDays})`;
  const { rows } = await sql<SumsRow>`
    WITH ${exposuresSql(key)}, outcome AS (
      SELECT x.variant, x.customer_id,
        COUNT(g.event_id) FILTER (WHERE g.occurred_at >= x.first_at) > 0 AS y,
        COUNT(g.event_id) FILTER (WHERE g.occurred_at < x.first_at) > 0 AS x
      FROM exposed x LEFT JOIN wealth.app_events g
        ON g.customer_id = x.customer_id AND g.event_name = ${event}
       AND g.occurred_at >= x.first_at - ${window} AND g.occurred_at < x.first_at + ${window}
      GROUP BY x.variant, x.customer_id
    )
    SELECT variant, COUNT(*) AS n, SUM(y::int)::float8 AS sum_y, SUM(y::int)::float8 AS sum_y2, SUM(x::int)::float8 AS sum_x,
      SUM(x::int)::float8 AS sum_x2, SUM((x AND y)::int)::float8 AS sum_xy, COUNT(*) FILTER (WHERE y) AS positive
    FROM outcome GROUP BY variant
    UNION ALL SELECT NULL, COUNT(*), 0, 0, 0, 0, 0, 0 FROM seen WHERE v0 <> v1`.execute(db);
  return toSums(rows);
}

/**
 * The per-customer, per-day values of a metric through the semantic layer: only metrics
 * that add up over days per customer (SIMPLE over a `sum`, `count` or `sum_boolean` measure,
 * not semi-additive, no time spine); anything else is refused with a coded error.
 */
function perCustomerDaily(
  layer: SemanticLayer,
  metric: string,
  subject: string,
  from: string,
  to: string,
): { statement: RawBuilder<unknown>; timeZone: string } {
  const definition = layer.index.metrics.get(metric);
  if (!definition) throw new StrataError('UNKNOWN_MEMBER', `unknown metric ${quoteInput(metric)}`);
  if (definition.type !== 'SIMPLE' || definition.joinToTimeSpine)
    throw new StrataError(
      'INVALID_QUERY',
      `metric ${quoteInput(metric)} is ${definition.type}: an experiment goal or guardrail needs a SIMPLE metric that adds up per customer over days`,
    );
  const { model, measure } = layer.index.measure(definition.measure);
  if (!['sum', 'count', 'sum_boolean'].includes(measure.aggregation) || measure.nonAdditive)
    throw new StrataError(
      'INVALID_QUERY',
      `metric ${quoteInput(metric)} aggregates with ${measure.aggregation}${measure.nonAdditive ? ' (semi-additive)' : ''}: per-customer values need sum or count`,
    );
  const compiled = layer.plan({
    metrics: [metric],
    groupBy: [{ dimension: `${subject}.${subjectKey(layer, subject)}` }, { dimension: 'metric_time', grain: 'DAY' }],
    timeRange: { from, to },
  });
  return { statement: planStatement(layer.index, compiled.plan), timeZone: model.timeZone };
}

function subjectKey(layer: SemanticLayer, subject: string): string {
  const model = layer.index.models.get(subject);
  if (model?.primaryKey.length !== 1) throw new Error(`the subject model '${subject}' needs a one-column primary key`);
  return model.primaryKey[0] as string;
}

/** The reporting-zone days spanned by the windows around every first exposure: `[first day - W, last day + W]`. */
async function exposureDays(db: Kysely<any>, key: string, windowDays: number, timeZone: string): Promise<{ from: string; to: string } | null> {
  const { rows } = await sql<{ from: string | null; to: string | null }>`
    SELECT to_char(CAST(MIN(occurred_at) AT TIME ZONE ${timeZone} AS date) - ${windowDays}::int, 'YYYY-MM-DD') AS "from",
           to_char(CAST(MAX(occurred_at) AT TIME ZONE ${timeZone} AS date) + ${windowDays + 1}::int, 'YYYY-MM-DD') AS "to"
    FROM wealth.app_events WHERE event_name = ${EXPOSURE_EVENT} AND (properties ->> 'experiment') = ${key} AND customer_id IS NOT NULL`.execute(db);
  const row = rows[0];
  return row?.from && row.to ? { from: row.from, to: row.to } : null;
}

/**
 * Metric goal or guardrail: per variant, sums of each exposed customer's metric value over
 * the reporting-zone days `[first exposure day, + windowDays)` (Y) and over the as many days
 * before it (X, for CUPED). Customers without data count as 0.
 */
async function metricSums(db: Kysely<any>, layer: SemanticLayer, subject: string, key: string, metric: string, windowDays: number) {
  const probe = perCustomerDaily(layer, metric, subject, '2000-01-01', '2000-01-02');
  const days = await exposureDays(db, key, windowDays, probe.timeZone);
  if (!days) return { byVariant: new Map<string, VariantSums>(), multiple: 0 };
  const { statement, timeZone } = perCustomerDaily(layer, metric, subject, days.from, days.to);
  const idColumn = sql.ref(`m.${subject}__${subjectKey(layer, subject)}`);
  const value = sql`CAST(${sql.ref(`m.${metric}`)} AS float8)`;
  const { rows } = await sql<SumsRow>`
    WITH ${exposuresSql(key)}, m AS (${statement}),
    vals AS (
      SELECT x.variant, x.customer_id,
        COALESCE(SUM(${value}) FILTER (WHERE m.metric_time__day >= x.d0), 0) AS y,
        COALESCE(SUM(${value}) FILTER (WHERE m.metric_time__day < x.d0), 0) AS x
      FROM (SELECT e.*, CAST(e.first_at AT TIME ZONE ${timeZone} AS date) AS d0 FROM exposed e) x
      LEFT JOIN m ON ${idColumn} = x.customer_id AND m.metric_time__day >= x.d0 - ${windowDays}::int AND m.metric_time__day < x.d0 + ${windowDays}::int
      GROUP BY x.variant, x.customer_id
    )
    SELECT variant, COUNT(*) AS n, SUM(y) AS sum_y, SUM(y * y) AS sum_y2, SUM(x) AS sum_x, SUM(x * x) AS sum_x2, SUM(x * y) AS sum_xy,
      COUNT(*) FILTER (WHERE y > 0) AS positive
    FROM vals GROUP BY variant
    UNION ALL SELECT NULL, COUNT(*), 0, 0, 0, 0, 0, 0 FROM seen WHERE v0 <> v1`.execute(db);
  return toSums(rows);
}

export interface ResultsOptions {
  /** The semantic layer metric goals and guardrails are read through. */
  readonly semantic: SemanticLayer;
  /** The model whose rows are customers (the domain's subject). */
  readonly subject: string;
  /** Small-cell threshold of the caller (none: sees every count). */
  readonly minSubjects?: number;
}

const EMPTY: VariantSums = { n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0, positive: 0 };

/**
 * Results of an experiment from its exposures in `wealth.app_events`: per variant exposed
 * customers, conversions to the goal, lift against the control (the first variant) with a
 * 95 % interval and a two-sided p-value (two-proportion z-test for an event goal, Welch's
 * t-test for a metric goal), CUPED on the goal's pre-exposure value, the SRM check against
 * the weights, and guardrail metrics (Welch). Aggregation runs in SQL.
 */
export async function experimentResults(db: Kysely<any>, input: ExperimentInput, options: ResultsOptions): Promise<ExperimentResults> {
  checkInput(input);
  const { goal } = input;
  const isEvent = goal.event !== undefined && goal.event !== null;
  const sums = isEvent
    ? await eventGoalSums(db, input.key, goal.event as string, goal.windowDays)
    : await metricSums(db, options.semantic, options.subject, input.key, goal.metric as string, goal.windowDays);
  const k = options.minSubjects;
  const small = (count: number) => k !== undefined && count < k;
  const of = (key: string) => sums.byVariant.get(key) ?? EMPTY;
  const control = of(input.variants[0]?.key as string);
  const controlHidden = small(control.n) || small(control.positive);
  const variants: VariantResult[] = input.variants.map((v, i) => {
    const s = of(v.key);
    if (small(s.n)) return { key: v.key, exposures: null, conversions: null, rate: null, suppressed: true };
    if (small(s.positive)) return { key: v.key, exposures: s.n, conversions: null, rate: null, suppressed: true };
    const base = { key: v.key, exposures: s.n, conversions: s.positive, rate: s.n ? s.sumY / s.n : null, suppressed: false };
    if (i === 0 || controlHidden) return base;
    const comparison = isEvent ? twoProportionZTest({ n: control.n, conversions: control.sumY }, { n: s.n, conversions: s.sumY }) : welchTTest(control, s);
    return { ...base, ...(comparison ?? {}) };
  });
  const anyHidden = input.variants.some((v) => small(of(v.key).n));
  const cuped: CupedVariant[] = input.variants.slice(1).map((v) => {
    const s = of(v.key);
    const hidden = controlHidden || small(s.n) || small(s.positive);
    const r = hidden ? null : cupedTTest(control, s);
    return r ? { key: v.key, ...r } : { key: v.key, theta: null, varianceReduction: null };
  });
  const guardrails: MetricComparison[] = [];
  for (const metric of input.guardrails ?? []) {
    const g = await metricSums(db, options.semantic, options.subject, input.key, metric, goal.windowDays);
    const gc = g.byVariant.get(input.variants[0]?.key as string) ?? EMPTY;
    guardrails.push({
      metric,
      variants: input.variants.map((v, i) => {
        const s = g.byVariant.get(v.key) ?? EMPTY;
        const hidden = small(s.n) || small(gc.n);
        const r = i === 0 || hidden ? null : welchTTest(gc, s);
        return {
          key: v.key,
          mean: small(s.n) || s.n === 0 ? null : s.sumY / s.n,
          absoluteLift: r?.absoluteLift ?? null,
          relativeLift: r?.relativeLift ?? null,
          ciLow: r?.ciLow ?? null,
          ciHigh: r?.ciHigh ?? null,
          pValue: r?.pValue ?? null,
          suppressed: small(s.n),
        };
      }),
    });
  }
  return {
    key: input.key,
    goal: {
      kind: isEvent ? 'EVENT' : 'METRIC',
      name: (isEvent ? goal.event : goal.metric) as string,
      windowDays: goal.windowDays,
      test: isEvent ? 'TWO_PROPORTION_Z' : 'WELCH_T',
    },
    variants,
    srm: anyHidden
      ? null
      : sampleRatioMismatch(
          input.variants.map((v) => of(v.key).n),
          input.variants.map((v) => v.weight),
        ),
    multipleExposures: sums.multiple > 0 && small(sums.multiple) ? null : sums.multiple,
    cuped,
    guardrails,
  };
}

/** Refuses a malformed definition with a coded error before any query runs. */
function checkInput(input: ExperimentInput): void {
  const bad = (message: string) => new StrataError('BAD_USER_INPUT', `experiment ${quoteInput(input.key)}: ${message}`);
  if (input.variants.length < 2) throw bad('needs at least two variants (the first is the control)');
  if (new Set(input.variants.map((v) => v.key)).size !== input.variants.length) throw bad('variant keys must be distinct');
  if (input.variants.some((v) => !(v.weight >= 0))) throw bad('variant weights must be numbers >= 0');
  const { goal } = input;
  if ((goal.event == null) === (goal.metric == null)) throw bad('the goal names exactly one of an event or a metric');
  if (!Number.isInteger(goal.windowDays) || goal.windowDays < 1 || goal.windowDays > 366)
    throw bad('goal.windowDays must be a whole number of days from 1 to 366');
}
