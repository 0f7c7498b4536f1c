import type { Kysely } from 'kysely';
import type { SemanticLayer } from '../modeling/semantic-layer.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import {
  type Comparison,
  cupedTTest,
  type RatioSums,
  ratioDeltaTest,
  type SampleRatioCheck,
  sampleRatioMismatch,
  twoProportionZTest,
  welchTTest,
} from '../decisioning/statistics.ts';
import type { ExperimentInput } from './experiment-definitions.ts';
import { eventGoalPart, type ExperimentSums, exposureSpan, NO_SUMS, type VariantSums } from './experiment-exposures.ts';
import { metricPart, metricShape, readParts } from './experiment-metric-sums.ts';
import { RESULTS_SETTINGS, withAnalyticSettings } from './analytic-settings.ts';

export { EXPOSURE_EVENT } from './experiment-exposures.ts';

/** The test comparing variants: event goal, SIMPLE metric (per-customer mean), RATIO metric (delta method). */
export type GoalTest = 'TWO_PROPORTION_Z' | 'WELCH_T' | 'DELTA_RATIO';

/** One variant's numbers; counts and statistics are null when suppressed (fewer than k customers). */
export interface VariantResult extends Partial<Comparison> {
  key: string;
  exposures: number | null;
  /** Event goal: customers with the goal event in the window. Metric goal: customers whose value in the window is positive. */
  conversions: number | null;
  /** Event goal: conversions / exposures. SIMPLE metric goal: mean value per exposed customer. RATIO metric goal: Σ numerator / Σ denominator. */
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
  test: GoalTest;
  variants: {
    key: string;
    /** Mean per exposed customer; for a RATIO metric, Σ numerator / Σ denominator. */
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
  goal: { kind: 'EVENT' | 'METRIC'; name: string; windowDays: number; test: GoalTest };
  variants: VariantResult[];
  srm: SampleRatioCheck | null;
  /** Customers exposed to more than one variant: left out of every number (like GrowthBook's multiple exposures); null when fewer than k. */
  multipleExposures: number | null;
  cuped: CupedVariant[];
  guardrails: MetricComparison[];
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

const asRatio = (s: VariantSums): RatioSums => ({ n: s.n, sumN: s.sumY, sumN2: s.sumY2, sumD: s.sumX, sumD2: s.sumX2, sumND: s.sumXY });

/** A variant's value (rate, mean or ratio) and its comparison with the control under `test`. */
function valueOf(test: GoalTest, s: VariantSums): number | null {
  if (test === 'DELTA_RATIO') return s.sumX === 0 ? null : s.sumY / s.sumX;
  return s.n === 0 ? null : s.sumY / s.n;
}
function compare(test: GoalTest, control: VariantSums, s: VariantSums): Comparison | null {
  if (test === 'TWO_PROPORTION_Z') return twoProportionZTest({ n: control.n, conversions: control.sumY }, { n: s.n, conversions: s.sumY });
  if (test === 'WELCH_T') return welchTTest(control, s);
  const r = ratioDeltaTest(asRatio(control), asRatio(s));
  return r && { absoluteLift: r.absoluteLift, relativeLift: r.relativeLift, ciLow: r.ciLow, ciHigh: r.ciHigh, pValue: r.pValue };
}

/**
 * Goal and guardrail sums of one experiment, and the test each is judged by: the span of
 * its exposures from the ends of their index, then one statement for the goal and every
 * guardrail (in one transaction without JIT, whose compile time exceeded what it saved).
 */
async function readSums(db: Kysely<any>, input: ExperimentInput, options: ResultsOptions) {
  const { goal } = input;
  const metricTest = (metric: string): GoalTest => (metricShape(options.semantic, metric).kind === 'ratio' ? 'DELTA_RATIO' : 'WELCH_T');
  const isEvent = goal.event !== undefined && goal.event !== null;
  // Every metric is checked before any query runs.
  const goalTest = isEvent ? 'TWO_PROPORTION_Z' : metricTest(goal.metric as string);
  const guardrailTests = (input.guardrails ?? []).map((metric) => ({ metric, test: metricTest(metric) }));
  const all = await withAnalyticSettings(
    db,
    async (trx) => {
      const span = await exposureSpan(trx, input.key);
      if (!span) return [NO_SUMS, ...guardrailTests.map(() => NO_SUMS)];
      const metricOf = (part: number, metric: string) => metricPart(trx, options.semantic, options.subject, part, metric, goal.windowDays, span);
      const parts = [isEvent ? eventGoalPart(0, goal.event as string, goal.windowDays, span) : await metricOf(0, goal.metric as string)];
      for (const [i, g] of guardrailTests.entries()) parts.push(await metricOf(i + 1, g.metric));
      return readParts(trx, input.key, parts);
    },
    RESULTS_SETTINGS,
  );
  const [sums = NO_SUMS, ...rest] = all;
  const guardrails: { metric: string; test: GoalTest; sums: ExperimentSums }[] = guardrailTests.map((g, i) => ({ ...g, sums: rest[i] ?? NO_SUMS }));
  return { isEvent, goalTest, sums, guardrails };
}

/**
 * Results of an experiment from its exposures in `wealth.app_events`: per variant exposed
 * customers, conversions to the goal, lift against the control (the first variant) with a
 * 95 % interval and a two-sided p-value (two-proportion z-test for an event goal, Welch's
 * t-test for a SIMPLE metric goal, the delta method for a RATIO one), CUPED on the goal's
 * pre-exposure value, the SRM check against the weights, and guardrail metrics with the
 * same statistics. Aggregation runs in SQL; counts under `minSubjects` are hidden.
 */
export async function experimentResults(db: Kysely<any>, input: ExperimentInput, options: ResultsOptions): Promise<ExperimentResults> {
  checkInput(input);
  const { isEvent, goalTest, sums, guardrails } = await readSums(db, input, options);
  const k = options.minSubjects;
  const small = (count: number) => k !== undefined && count < k;
  const of = (from: ExperimentSums, key: string) => from.byVariant.get(key) ?? EMPTY;
  const controlKey = input.variants[0]?.key as string;
  const control = of(sums, controlKey);
  const controlHidden = small(control.n) || small(control.positive);
  const variants: VariantResult[] = input.variants.map((v, i) => {
    const s = of(sums, v.key);
    if (small(s.n)) return { key: v.key, exposures: null, conversions: null, rate: null, suppressed: true };
    if (small(s.positive)) return { key: v.key, exposures: s.n, conversions: null, rate: null, suppressed: true };
    const base = { key: v.key, exposures: s.n, conversions: s.positive, rate: valueOf(goalTest, s), suppressed: false };
    if (i === 0 || controlHidden) return base;
    return { ...base, ...(compare(goalTest, control, s) ?? {}) };
  });
  const cuped: CupedVariant[] = input.variants.slice(1).map((v) => {
    const s = of(sums, v.key);
    const hidden = goalTest === 'DELTA_RATIO' || controlHidden || small(s.n) || small(s.positive);
    const r = hidden ? null : cupedTTest(control, s);
    return r ? { key: v.key, ...r } : { key: v.key, theta: null, varianceReduction: null };
  });
  return {
    key: input.key,
    goal: {
      kind: isEvent ? 'EVENT' : 'METRIC',
      name: (isEvent ? input.goal.event : input.goal.metric) as string,
      windowDays: input.goal.windowDays,
      test: goalTest,
    },
    variants,
    srm: input.variants.some((v) => small(of(sums, v.key).n))
      ? null
      : sampleRatioMismatch(
          input.variants.map((v) => of(sums, v.key).n),
          input.variants.map((v) => v.weight),
        ),
    multipleExposures: sums.multiple > 0 && small(sums.multiple) ? null : sums.multiple,
    cuped,
    guardrails: guardrails.map(({ metric, test, sums: g }) => {
      const gc = of(g, controlKey);
      return {
        metric,
        test,
        variants: input.variants.map((v, i) => {
          const s = of(g, v.key);
          const r = i === 0 || small(s.n) || small(gc.n) ? null : compare(test, gc, s);
          return {
            key: v.key,
            mean: small(s.n) ? null : valueOf(test, s),
            absoluteLift: r?.absoluteLift ?? null,
            relativeLift: r?.relativeLift ?? null,
            ciLow: r?.ciLow ?? null,
            ciHigh: r?.ciHigh ?? null,
            pValue: r?.pValue ?? null,
            suppressed: small(s.n),
          };
        }),
      };
    }),
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
