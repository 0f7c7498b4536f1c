import { describe, expect, it } from 'vitest';
import { fitLogistic, scoreRow, type SparseRow } from './logistic-regression.ts';
import { rankingQuality } from './ranking-quality.ts';

const ROWS: SparseRow[] = (
  [
    [[0, 2], 1],
    [[0, 3], 1],
    [[1, 2], 0],
    [[1, 3], 0],
    [[0, 2], 0],
    [[1, 2], 1],
    [[0, 3], 1],
    [[1, 3], 0],
    [[0, 2], 1],
    [[1, 2], 0],
    [[0], 1],
    [[1, 3], 0],
  ] as const
).map(([columns, label]) => ({ columns: [...columns], label: label === 1 }));

describe('L2 logistic regression by IRLS', () => {
  it('finds the minimum SciPy finds for the same penalized log-likelihood', () => {
    // scipy.optimize.minimize(BFGS, gtol 1e-12) of sum(logaddexp(0, eta) - y eta) + 0.5 |w|^2, intercept free (SciPy 1.17.1).
    const reference = [0.8171654254461806, -0.8171654259371354, -0.06886841223015448, -0.21202101434503268];
    const model = fitLogistic(ROWS, 4, { l2: 1 });
    model.weights.forEach((w, i) => expect(w).toBeCloseTo(reference[i] as number, 7));
    expect(model.intercept).toBeCloseTo(0.12288861696961065, 7);
    expect(model.iterations).toBeLessThan(20);
  });

  it('is deterministic and scores a row as the intercept plus its active weights', () => {
    const a = fitLogistic(ROWS, 4);
    const b = fitLogistic(ROWS, 4);
    expect(a).toEqual(b);
    expect(scoreRow(a, [0, 2])).toBeCloseTo(a.intercept + (a.weights[0] as number) + (a.weights[2] as number), 15);
  });

  it('separates a planted column, the penalty keeping the weights finite on separable data', () => {
    const rows: SparseRow[] = Array.from({ length: 200 }, (_, i) => ({ columns: i % 2 === 0 ? [0, 1 + (i % 3)] : [1 + (i % 3)], label: i % 2 === 0 }));
    const model = fitLogistic(rows, 4);
    expect(model.weights[0]).toBeGreaterThan(3);
    expect(Number.isFinite(model.intercept)).toBe(true);
  });
});

describe('ranking quality', () => {
  it('AUC equals Mann-Whitney U / (n1 n2) with ties as SciPy counts them', () => {
    // scipy.stats.mannwhitneyu([3, 2, 0.5], [2, 1, 0.5]).statistic / 9 = 0.6666666666666666
    const scored = [3, 2, 2, 1, 0.5, 0.5].map((score, i) => ({ score, positive: [1, 0, 1, 0, 1, 0][i] === 1 }));
    expect(rankingQuality(scored).auc).toBeCloseTo(0.6666666666666666, 15);
  });

  it('precision at k and lift in the top decile, ties ordered against the positives', () => {
    const scored = [
      ...Array.from({ length: 10 }, () => ({ score: 5, positive: true })),
      ...Array.from({ length: 90 }, (_, i) => ({ score: i === 0 ? 5 : 1, positive: false })),
    ];
    const quality = rankingQuality(scored);
    expect(quality.precisionAtK).toBeCloseTo(0.9, 15);
    expect(quality.liftTopDecile).toBeCloseTo(0.9 / 0.1, 12);
    expect(rankingQuality([{ score: 1, positive: true }]).auc).toBeNull();
  });
});
