import { describe, expect, it } from 'vitest';
import { cupedTTest, type MomentSums, type RatioSums, ratioDeltaTest, sampleRatioMismatch, twoProportionZTest, welchTTest } from './statistics.ts';

/*
 * Expected numbers were computed independently with SciPy 1.17 (not jstat):
 *   z-test: p = 2 * norm.sf(|z|) with the pooled SE, CI = diff ± norm.ppf(0.975) * unpooled SE;
 *   Welch: scipy.stats.ttest_ind(treatment, control, equal_var=False) and its confidence_interval(0.95);
 *   CUPED: theta = np.cov(Y, X)[0, 1] / np.var(X, ddof=1) over both groups' customers, then the
 *          same Welch test on y - theta * x per customer;
 *   SRM: scipy.stats.chisquare(observed, expected);
 *   ratio (delta method): per group mean(N) / mean(D) with variance
 *          (var N / mD² - 2 mN cov(N, D) / mD³ + mN² var D / mD⁴) / n from np.cov(N, D, ddof=1),
 *          p = 2 * norm.sf(|diff| / se), CI = diff ± norm.ppf(0.975) * se.
 * Intervals of t tests agree to 1e-6 (jstat's inverse t is accurate to about 1e-8).
 */

const ctlY = [3.1, 0, 4.5, 2.2, 0, 7.9, 1.5, 3.3, 0, 2.8, 5.0, 1.1];
const ctlX = [2.9, 0.4, 4.0, 2.5, 0.1, 6.8, 1.0, 3.0, 0.3, 2.0, 4.4, 1.5];
const trtY = [4.0, 1.2, 5.9, 2.0, 0.5, 8.8, 2.6, 3.9, 0.7, 3.5, 6.1, 2.2, 1.0];
const trtX = [3.0, 1.0, 5.1, 1.7, 0.2, 7.5, 2.2, 3.1, 0.9, 2.7, 5.5, 2.0, 0.6];

/** The sums the database returns for one variant. */
function sums(y: number[], x: number[]): MomentSums {
  const add = (f: (i: number) => number) => y.reduce((s, _, i) => s + f(i), 0);
  return {
    n: y.length,
    sumY: add((i) => y[i] as number),
    sumY2: add((i) => (y[i] as number) ** 2),
    sumX: add((i) => x[i] as number),
    sumX2: add((i) => (x[i] as number) ** 2),
    sumXY: add((i) => (x[i] as number) * (y[i] as number)),
  };
}

describe('two-proportion z-test', () => {
  it('matches SciPy: 100/1000 against 130/1000', () => {
    const r = twoProportionZTest({ n: 1000, conversions: 100 }, { n: 1000, conversions: 130 });
    expect(r?.absoluteLift).toBeCloseTo(0.03, 12);
    expect(r?.relativeLift).toBeCloseTo(0.3, 12);
    expect(r?.pValue).toBeCloseTo(0.03548845046647471, 9);
    expect(r?.ciLow).toBeCloseTo(0.0020679344393763656, 9);
    expect(r?.ciHigh).toBeCloseTo(0.057932065560623636, 9);
  });
  it('answers null for an empty group and p = 1 for identical rates', () => {
    expect(twoProportionZTest({ n: 0, conversions: 0 }, { n: 10, conversions: 1 })).toBeNull();
    expect(twoProportionZTest({ n: 10, conversions: 0 }, { n: 10, conversions: 0 })).toMatchObject({ pValue: 1, relativeLift: null });
  });
});

describe("Welch's t-test", () => {
  it('matches scipy.stats.ttest_ind(equal_var=False)', () => {
    const r = welchTTest(sums(ctlY, ctlX), sums(trtY, trtX));
    expect(r?.absoluteLift).toBeCloseTo(0.6448717948717952, 10);
    expect(r?.pValue).toBeCloseTo(0.5128837842430525, 8);
    expect(r?.ciLow).toBeCloseTo(-1.3623795898120248, 6);
    expect(r?.ciHigh).toBeCloseTo(2.6521231795556153, 6);
  });
});

describe('CUPED', () => {
  it('pools theta over both groups and tests the adjusted means like SciPy on y - theta x', () => {
    const r = cupedTTest(sums(ctlY, ctlX), sums(trtY, trtX));
    expect(r?.theta).toBeCloseTo(1.1688636803405572, 10);
    expect(r?.absoluteLift).toBeCloseTo(0.2679881851209614, 10);
    expect(r?.pValue).toBeCloseTo(0.04179135396619134, 8);
    expect(r?.ciLow).toBeCloseTo(0.010973714266933665, 6);
    expect(r?.ciHigh).toBeCloseTo(0.5250026559749892, 6);
    // The pre-exposure value explains most of the variance: the interval is much narrower than Welch's.
    expect(r?.varianceReduction).toBeGreaterThan(0.9);
  });
  it('needs the pre-exposure sums', () => {
    const { sumX: _x, sumX2: _x2, sumXY: _xy, ...withoutPre } = sums(ctlY, ctlX);
    expect(cupedTTest(withoutPre, sums(trtY, trtX))).toBeNull();
  });
});

describe('sample-ratio mismatch', () => {
  it('matches scipy.stats.chisquare and flags only below p = 0.001', () => {
    const a = sampleRatioMismatch([5000, 5300], [0.5, 0.5]);
    expect(a?.chiSquare).toBeCloseTo(8.737864077669903, 10);
    expect(a?.pValue).toBeCloseTo(0.003116693839866867, 10);
    expect(a?.flagged).toBe(false);
    const b = sampleRatioMismatch([2100, 2950, 5050], [0.2, 0.3, 0.5]);
    expect(b?.chiSquare).toBeCloseTo(5.2805280528052805, 10);
    expect(b?.pValue).toBeCloseTo(0.07134243078417334, 10);
    const c = sampleRatioMismatch([5000, 5600], [50, 50]);
    expect(c?.chiSquare).toBeCloseTo(33.9622641509434, 10);
    expect(c?.pValue).toBeCloseTo(5.61913746484314e-9, 12);
    expect(c?.flagged).toBe(true);
  });
});

describe('ratio metrics (delta method)', () => {
  const ratioSums = (num: number[], den: number[]): RatioSums => ({
    n: num.length,
    sumN: num.reduce((a, b) => a + b, 0),
    sumN2: num.reduce((a, b) => a + b * b, 0),
    sumD: den.reduce((a, b) => a + b, 0),
    sumD2: den.reduce((a, b) => a + b * b, 0),
    sumND: num.reduce((a, b, i) => a + b * (den[i] as number), 0),
  });
  it('matches the delta method computed with NumPy and SciPy: clicks per impression', () => {
    const control = ratioSums([0, 1, 0, 2, 1, 0, 0, 3, 1, 0, 1, 0], [3, 4, 2, 6, 5, 1, 2, 7, 3, 2, 4, 3]);
    const treatment = ratioSums([1, 2, 0, 3, 1, 1, 0, 4, 2, 1, 1, 0, 2], [3, 5, 2, 6, 4, 2, 2, 8, 3, 3, 4, 2, 5]);
    const r = ratioDeltaTest(control, treatment);
    expect(r?.controlRatio).toBeCloseTo(0.21428571428571427, 12);
    expect(r?.treatmentRatio).toBeCloseTo(0.3673469387755102, 12);
    expect(r?.absoluteLift).toBeCloseTo(0.15306122448979595, 12);
    expect(r?.pValue).toBeCloseTo(0.027913406147025057, 9);
    expect(r?.ciLow).toBeCloseTo(0.016607133995603457, 9);
    expect(r?.ciHigh).toBeCloseTo(0.2895153149839884, 9);
  });
  it('answers null without a denominator', () => {
    expect(ratioDeltaTest(ratioSums([0, 0], [0, 0]), ratioSums([1, 1], [2, 2]))).toBeNull();
  });
});
