/**
 * Frequentist statistics of experiment results, over sufficient statistics (counts and
 * sums computed by the database), so nothing here loops over customers.
 */
import jstat from 'jstat';

/** Two-sided confidence level of every interval. */
export const CONFIDENCE = 0.95;

/** A variant's comparison with the control (the first variant). */
export interface Comparison {
  /** Treatment minus control (rate or mean). */
  absoluteLift: number;
  /** absoluteLift / control value; null when the control's value is 0. */
  relativeLift: number | null;
  /** 95 % confidence interval of the absolute lift. */
  ciLow: number;
  ciHigh: number;
  /** Two-sided p-value of "no difference". */
  pValue: number;
}

/** Per-variant sums of a per-customer value Y (and its pre-exposure value X for CUPED). */
export interface MomentSums {
  n: number;
  sumY: number;
  sumY2: number;
  /** Only for CUPED: the pre-exposure value X per customer. */
  sumX?: number;
  sumX2?: number;
  sumXY?: number;
}

const twoSidedNormal = (z: number) => Math.min(1, 2 * jstat.normal.cdf(-Math.abs(z), 0, 1));
const twoSidedT = (t: number, df: number) => Math.min(1, 2 * jstat.studentt.cdf(-Math.abs(t), df));

/** Sample variance from n, sum and sum of squares (0 below two observations). */
export function sampleVariance(n: number, sum: number, sumSquares: number): number {
  if (n < 2) return 0;
  return Math.max(0, (sumSquares - (sum * sum) / n) / (n - 1));
}

/**
 * Two-proportion z-test of treatment against control: the p-value uses the pooled standard
 * error (the textbook test of equal rates), the interval the unpooled (Wald) one.
 * Null when either group is empty.
 * @example twoProportionZTest({ n: 1000, conversions: 100 }, { n: 1000, conversions: 130 })
 */
export function twoProportionZTest(control: { n: number; conversions: number }, treatment: { n: number; conversions: number }): Comparison | null {
  if (control.n === 0 || treatment.n === 0) return null;
  const p0 = control.conversions / control.n;
  const p1 = treatment.conversions / treatment.n;
  const diff = p1 - p0;
  const pooled = (control.conversions + treatment.conversions) / (control.n + treatment.n);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n));
  const seWald = Math.sqrt((p0 * (1 - p0)) / control.n + (p1 * (1 - p1)) / treatment.n);
  const z975 = jstat.normal.inv(1 - (1 - CONFIDENCE) / 2, 0, 1);
  return {
    absoluteLift: diff,
    relativeLift: p0 === 0 ? null : diff / p0,
    ciLow: diff - z975 * seWald,
    ciHigh: diff + z975 * seWald,
    pValue: sePooled === 0 ? (diff === 0 ? 1 : 0) : twoSidedNormal(diff / sePooled),
  };
}

interface MeanSummary {
  n: number;
  mean: number;
  variance: number;
}

/** Welch's t-test on two means with their own variances; df by Welch–Satterthwaite. */
function welch(control: MeanSummary, treatment: MeanSummary, controlMeanForRelative: number): Comparison | null {
  if (control.n < 2 || treatment.n < 2) return null;
  const diff = treatment.mean - control.mean;
  const a = control.variance / control.n;
  const b = treatment.variance / treatment.n;
  const se = Math.sqrt(a + b);
  const relativeLift = controlMeanForRelative === 0 ? null : diff / controlMeanForRelative;
  if (se === 0) return { absoluteLift: diff, relativeLift, ciLow: diff, ciHigh: diff, pValue: diff === 0 ? 1 : 0 };
  const df = (a + b) ** 2 / (a ** 2 / (control.n - 1) + b ** 2 / (treatment.n - 1));
  const t975 = jstat.studentt.inv(1 - (1 - CONFIDENCE) / 2, df);
  return { absoluteLift: diff, relativeLift, ciLow: diff - t975 * se, ciHigh: diff + t975 * se, pValue: twoSidedT(diff / se, df) };
}

/**
 * Welch's t-test of the treatment mean of a per-customer value against the control's.
 * Null when a group has fewer than two customers.
 */
export function welchTTest(control: MomentSums, treatment: MomentSums): Comparison | null {
  const summary = (s: MomentSums): MeanSummary => ({ n: s.n, mean: s.n ? s.sumY / s.n : 0, variance: sampleVariance(s.n, s.sumY, s.sumY2) });
  const c = summary(control);
  return welch(c, summary(treatment), c.mean);
}

/** CUPED comparison: the Welch comparison of the adjusted means, with theta and the variance it removed. */
export interface CupedComparison extends Comparison {
  theta: number;
  /** 1 - adjusted / unadjusted variance of the lift estimate (0 when X explains nothing). */
  varianceReduction: number;
}

/**
 * CUPED as GrowthBook computes it: theta = cov(Y, X) / var(X) over the pooled customers of
 * the control and the treatment, each variant's mean adjusted to `mean(Y) - theta * mean(X)`
 * with variance `var(Y) + theta² var(X) - 2 theta cov(Y, X)`, then Welch's test on the
 * adjusted means; the relative lift divides by the control's unadjusted mean.
 * Null without pre-exposure sums, or when a group has fewer than two customers.
 */
export function cupedTTest(control: MomentSums, treatment: MomentSums): CupedComparison | null {
  const pre = (s: MomentSums) => s.sumX !== undefined && s.sumX2 !== undefined && s.sumXY !== undefined;
  if (!pre(control) || !pre(treatment) || control.n < 2 || treatment.n < 2) return null;
  const n = control.n + treatment.n;
  const sumY = control.sumY + treatment.sumY;
  const sumX = (control.sumX as number) + (treatment.sumX as number);
  const varX = sampleVariance(n, sumX, (control.sumX2 as number) + (treatment.sumX2 as number));
  const covXY = ((control.sumXY as number) + (treatment.sumXY as number) - (sumX * sumY) / n) / (n - 1);
  const theta = varX === 0 ? 0 : covXY / varX;
  const adjusted = (s: MomentSums): MeanSummary => {
    const vY = sampleVariance(s.n, s.sumY, s.sumY2);
    const vX = sampleVariance(s.n, s.sumX as number, s.sumX2 as number);
    const cov = ((s.sumXY as number) - ((s.sumX as number) * s.sumY) / s.n) / (s.n - 1);
    return { n: s.n, mean: (s.sumY - theta * (s.sumX as number)) / s.n, variance: Math.max(0, vY + theta * theta * vX - 2 * theta * cov) };
  };
  const a = adjusted(control);
  const b = adjusted(treatment);
  const result = welch(a, b, control.sumY / control.n);
  if (!result) return null;
  const unadjusted =
    sampleVariance(control.n, control.sumY, control.sumY2) / control.n + sampleVariance(treatment.n, treatment.sumY, treatment.sumY2) / treatment.n;
  const reduced = a.variance / a.n + b.variance / b.n;
  return { ...result, theta, varianceReduction: unadjusted === 0 ? 0 : 1 - reduced / unadjusted };
}

export interface SampleRatioCheck {
  chiSquare: number;
  pValue: number;
  /** p below {@link SRM_THRESHOLD}: the split differs from the weights more than chance explains. */
  flagged: boolean;
}

/** The p-value below which a sample-ratio mismatch is flagged (GrowthBook's default). */
export const SRM_THRESHOLD = 0.001;

/**
 * Sample-ratio-mismatch check: Pearson's chi-square of the observed counts against the
 * counts the weights expect, k - 1 degrees of freedom.
 * @example sampleRatioMismatch([5000, 5300], [0.5, 0.5]) // flagged
 */
export function sampleRatioMismatch(observed: readonly number[], weights: readonly number[]): SampleRatioCheck | null {
  const total = observed.reduce((s, x) => s + x, 0);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  if (total === 0 || observed.length < 2 || observed.length !== weights.length || weightSum <= 0) return null;
  let chiSquare = 0;
  for (let i = 0; i < observed.length; i++) {
    const expected = (total * (weights[i] as number)) / weightSum;
    if (expected > 0) chiSquare += ((observed[i] as number) - expected) ** 2 / expected;
  }
  const pValue = 1 - jstat.chisquare.cdf(chiSquare, observed.length - 1);
  return { chiSquare, pValue, flagged: pValue < SRM_THRESHOLD };
}

/** Per-variant sums of a ratio metric's numerator N and denominator D per customer. */
export interface RatioSums {
  n: number;
  sumN: number;
  sumN2: number;
  sumD: number;
  sumD2: number;
  sumND: number;
}

/** The ratio ΣN / ΣD of a variant and the delta-method variance of that estimate. */
function ratioEstimate(s: RatioSums): { ratio: number; variance: number } | null {
  if (s.n < 2 || s.sumD === 0) return null;
  const mN = s.sumN / s.n;
  const mD = s.sumD / s.n;
  const vN = sampleVariance(s.n, s.sumN, s.sumN2);
  const vD = sampleVariance(s.n, s.sumD, s.sumD2);
  const cov = (s.sumND - (s.sumN * s.sumD) / s.n) / (s.n - 1);
  const variance = (vN / mD ** 2 - (2 * mN * cov) / mD ** 3 + (mN ** 2 * vD) / mD ** 4) / s.n;
  return { ratio: mN / mD, variance: Math.max(0, variance) };
}

/**
 * A ratio metric (Σ numerator / Σ denominator over customers, e.g. clicks per impression)
 * compared between two variants as GrowthBook does: each ratio's variance by the delta
 * method, a normal test on the difference. Null when a group has fewer than two customers
 * or no denominator.
 */
export function ratioDeltaTest(control: RatioSums, treatment: RatioSums): (Comparison & { controlRatio: number; treatmentRatio: number }) | null {
  const a = ratioEstimate(control);
  const b = ratioEstimate(treatment);
  if (!a || !b) return null;
  const diff = b.ratio - a.ratio;
  const se = Math.sqrt(a.variance + b.variance);
  const z975 = jstat.normal.inv(1 - (1 - CONFIDENCE) / 2, 0, 1);
  return {
    absoluteLift: diff,
    relativeLift: a.ratio === 0 ? null : diff / a.ratio,
    ciLow: diff - z975 * se,
    ciHigh: diff + z975 * se,
    pValue: se === 0 ? (diff === 0 ? 1 : 0) : twoSidedNormal(diff / se),
    controlRatio: a.ratio,
    treatmentRatio: b.ratio,
  };
}
