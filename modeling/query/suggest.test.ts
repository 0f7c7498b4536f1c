import { describe, expect, it } from 'vitest';
import { closestNames, MAX_SUGGESTED_INPUT } from './suggest.ts';

const NAMES = ['purchase_amount', 'purchasers', 'purchase_conversion_rate', 'aum', 'active_customers'];

describe('closestNames', () => {
  it('suggests the closest names, best first', () => {
    expect(closestNames('purchase_amout', NAMES)[0]).toBe('purchase_amount');
    expect(closestNames('aum_', NAMES)).toEqual(['aum']);
    expect(closestNames('zzzzzzzzzzzz', NAMES)).toEqual([]);
  });

  it('gives no suggestions for names past the limit, however close', () => {
    const long = `purchase_amount${'x'.repeat(MAX_SUGGESTED_INPUT)}`;
    expect(closestNames(long, [...NAMES, long.slice(0, -1)])).toEqual([]);
    expect(closestNames('x'.repeat(200_000), NAMES)).toEqual([]);
  });

  it('finds what the plain, unbounded search finds, for names within the limit', () => {
    const candidates = Array.from({ length: 300 }, (_, i) => `metric_${i.toString(36)}_${'ab'.repeat(i % 7)}`);
    for (const wanted of ['metric_1_abab', 'metric_z', 'metrc_2s_ab', 'ab', 'metric_7_abababababababab', 'x'.repeat(40)]) {
      expect(closestNames(wanted, candidates)).toEqual(plainClosestNames(wanted, candidates));
    }
  });
});

/** The reference: full edit distance against every candidate (what the bounded search must equal). */
function plainClosestNames(wanted: string, candidates: string[], limit = 3): string[] {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let diagonal = row[0] as number;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const above = row[j] as number;
        row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
        diagonal = above;
      }
    }
    return row[b.length] as number;
  };
  return [...new Set(candidates)]
    .map((name) => ({ name, score: distance(wanted.toLowerCase(), name.toLowerCase()) - (name.includes(wanted) || wanted.includes(name) ? 2 : 0) }))
    .filter(({ name, score }) => score <= Math.max(3, Math.floor(Math.max(name.length, wanted.length) / 2)))
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((s) => s.name);
}
