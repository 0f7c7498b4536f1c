import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, chiSquareSurvival, chiSquareTest, cramersV } from './statistics.ts';
import { bestSplit } from './split-search.ts';
import { binsOf } from './bins.ts';

/**
 * Reference figures computed with SciPy 1.17.1: `chi2_contingency(t, correction=False)`,
 * `scipy.stats.contingency.association(t, method='cramer')`, `false_discovery_control(p)`
 * and `chi2.sf(x, dof)`; written here as numbers, never derived from the code under test.
 */
describe('insight statistics against SciPy', () => {
  it('chi-square without continuity correction on 2 x 2 and r x c tables', () => {
    const two = chiSquareTest([
      [30, 70],
      [10, 90],
    ]);
    expect(two?.statistic).toBeCloseTo(12.5, 10);
    expect(two?.dof).toBe(1);
    expect(two?.pValue).toBeCloseTo(0.00040695201744495946, 12);
    const table = [
      [120, 80],
      [45, 60],
      [30, 90],
      [5, 20],
    ];
    const four = chiSquareTest(table);
    expect(four?.statistic).toBeCloseTo(44.13214285714286, 9);
    expect(four?.dof).toBe(3);
    expect((four?.pValue ?? 0) / 1.414720747827878e-9).toBeCloseTo(1, 6);
    expect(cramersV(table, four as NonNullable<typeof four>)).toBeCloseTo(0.3131635811703343, 12);
    const wide = [
      [12, 5, 40],
      [30, 22, 18],
    ];
    const three = chiSquareTest(wide);
    expect(three?.statistic).toBeCloseTo(25.701408236884863, 9);
    expect(three?.dof).toBe(2);
    expect((three?.pValue ?? 0) / 2.624279650487252e-6).toBeCloseTo(1, 6);
    expect(cramersV(wide, three as NonNullable<typeof three>)).toBeCloseTo(0.44985919264122837, 12);
  });

  it('chi-square tail probabilities', () => {
    expect(chiSquareSurvival(50, 3) / 7.989179244951495e-11).toBeCloseTo(1, 6);
    expect(chiSquareSurvival(1e-3, 1)).toBeCloseTo(0.9747728793699604, 10);
    expect(chiSquareSurvival(0, 4)).toBe(1);
  });

  it('drops empty rows and columns, and says nothing about a table with one of either', () => {
    expect(
      chiSquareTest([
        [30, 70, 0],
        [0, 0, 0],
        [10, 90, 0],
      ])?.statistic,
    ).toBeCloseTo(12.5, 10);
    expect(chiSquareTest([[5, 7]])).toBeNull();
    expect(
      chiSquareTest([
        [5, 0],
        [7, 0],
      ]),
    ).toBeNull();
  });

  it('Benjamini-Hochberg q-values, nulls left out of m', () => {
    const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.2, 0.001]);
    [0.025, 0.05, 0.05, 0.2, 0.005].forEach((expected, i) => expect(q[i]).toBeCloseTo(expected, 12));
    const withNull = benjaminiHochberg([0.01, null, 0.04]);
    expect(withNull[1]).toBeNull();
    expect(withNull[0]).toBeCloseTo(0.02, 12);
    expect(withNull[2]).toBeCloseTo(0.04, 12);
  });
});

describe('CHAID-style split search', () => {
  const node = { customers: 1000, conversions: 150 };
  const limits = { minChildCustomers: 50, alpha: 0.05 };
  it('picks the most significant value-against-rest split and adjusts its p-value by the number of candidates', () => {
    const split = bestSplit(
      node,
      [
        {
          feature: 0,
          values: [
            { value: 'a', customers: 500, conversions: 76 },
            { value: 'b', customers: 500, conversions: 74 },
          ],
        },
        {
          feature: 1,
          values: [
            { value: 'x', customers: 200, conversions: 60 },
            { value: 'y', customers: 300, conversions: 40 },
            { value: null, customers: 500, conversions: 50 },
          ],
        },
      ],
      limits,
    );
    expect(split?.feature).toBe(1);
    expect(split?.value).toBe('x');
    expect(split?.inGroup).toEqual({ customers: 200, conversions: 60 });
    expect(split?.rest).toEqual({ customers: 800, conversions: 90 });
    // 4 candidates: a (b is its mirror), x, y, null
    const p = chiSquareTest([
      [60, 140],
      [90, 710],
    ])?.pValue as number;
    expect(split?.pValue).toBe(p);
    expect(split?.adjustedPValue).toBeCloseTo(Math.min(1, 4 * p), 15);
  });

  it('stops when no candidate is significant after adjustment, or too small, or would show a small cell', () => {
    const flat = [
      {
        feature: 0,
        values: [
          { value: 'a', customers: 500, conversions: 76 },
          { value: 'b', customers: 500, conversions: 74 },
        ],
      },
    ];
    expect(bestSplit(node, flat, limits)).toBeNull();
    const strong = [
      {
        feature: 0,
        values: [
          { value: 'a', customers: 40, conversions: 30 },
          { value: 'b', customers: 960, conversions: 120 },
        ],
      },
    ];
    expect(bestSplit(node, strong, limits)?.value).toBeUndefined();
    expect(bestSplit(node, strong, { ...limits, minChildCustomers: 40 })?.value).toBe('a');
    const fewConversions = [
      {
        feature: 0,
        values: [
          { value: 'a', customers: 300, conversions: 5 },
          { value: 'b', customers: 700, conversions: 145 },
        ],
      },
    ];
    expect(bestSplit(node, fewConversions, limits)?.value).toBe('a');
    expect(bestSplit(node, fewConversions, { ...limits, privacyK: 10 })).toBeNull();
  });
});

describe('numeric bins', () => {
  it('cuts below the first edge, between edges and from the last one up, edges deduplicated and sorted as numbers', () => {
    expect(binsOf(['20', '10', '10', '9.5']).map((b) => b.label)).toEqual(['< 9.5', '[9.5, 10)', '[10, 20)', '>= 20']);
    expect(binsOf([])).toEqual([{ label: 'all', lo: null, hi: null }]);
  });
});
