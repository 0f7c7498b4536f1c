import { GrowthBookClient } from '@growthbook/growthbook';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assignVariant, chooseVariant, fnv1a32, hashV2 } from './assignment.ts';

const IDS = Array.from({ length: 100_000 }, (_, i) => `c${String(i).padStart(6, '0')}`);
const sdk = new GrowthBookClient({});

/** GrowthBook's own answer for one id: the variation index, or -1 when not in the experiment. */
function sdkVariation(exp: { key: string; seed?: string; weights: number[]; coverage: number; namespace?: [string, number, number] }, id: string) {
  const variations = exp.weights.map((_, i) => i) as [number, number, ...number[]];
  const result = sdk.runInlineExperiment({ ...exp, variations, hashVersion: 2 }, { attributes: { id } });
  return { index: result.inExperiment ? result.variationId : -1, bucket: result.bucket };
}

describe('assignVariant equals the GrowthBook SDK (hash v2)', () => {
  // The SDK prints a console error per call for invalid weights; the fallback itself is what is compared.
  beforeAll(() => vi.spyOn(console, 'error').mockImplementation(() => undefined));
  afterAll(() => vi.restoreAllMocks());
  const cases = [
    { key: 'home_banner_copy', weights: [0.5, 0.5], coverage: 1 },
    { key: 'home_banner_copy', seed: 'seed-2026', weights: [0.5, 0.5], coverage: 0.4 },
    { key: 'wealth_mall_top', seed: 'a1b2c3', weights: [0.2, 0.3, 0.5], coverage: 0.85 },
    { key: 'three_arms', weights: [1 / 3, 1 / 3, 1 / 3], coverage: 0.1 },
    { key: 'uneven', seed: '理财', weights: [0.9, 0.1], coverage: 1 },
    { key: 'bad_weights_fall_back_to_equal', weights: [5, 5], coverage: 0.7 },
    { key: 'ns', weights: [0.5, 0.5], coverage: 0.9, namespace: ['wealth_ns', 0.25, 0.75] as [string, number, number] },
  ];
  for (const c of cases) {
    it(`${c.key} seed=${c.seed ?? '(key)'} weights=${c.weights.map((w) => w.toFixed(2))} coverage=${c.coverage}${c.namespace ? ' namespaced' : ''} on 100,000 ids`, () => {
      let mismatches = 0;
      const counts = new Map<number, number>();
      for (const id of IDS) {
        const ours = assignVariant({
          key: c.key,
          seed: c.seed,
          weights: c.weights,
          coverage: c.coverage,
          hashValue: id,
          namespace: c.namespace ? { id: c.namespace[0], range: [c.namespace[1], c.namespace[2]] } : undefined,
        });
        const theirs = sdkVariation(c, id);
        const index = ours.variantIndex ?? -1;
        counts.set(index, (counts.get(index) ?? 0) + 1);
        if (index !== theirs.index || (theirs.bucket !== undefined && theirs.bucket !== ours.hashBucket)) mismatches++;
        if (ours.inExperiment !== index >= 0) mismatches++;
      }
      expect(mismatches).toBe(0);
      // Several arms are really used (a test where everyone is out would agree trivially).
      expect([...counts.keys()].filter((k) => k >= 0).length).toBe(c.weights.length);
    });
  }

  it('reports why a unit is out: namespace, holdout, coverage', () => {
    const base = { key: 'why', weights: [0.5, 0.5], coverage: 0.5 };
    const reasons = new Set(
      IDS.slice(0, 5000).map(
        (id) => assignVariant({ ...base, hashValue: id, namespace: { id: 'n', range: [0, 0.5] }, holdout: { seed: 'h', share: 0.2 } }).reason,
      ),
    );
    expect([...reasons].sort()).toEqual(['assigned', 'holdout', 'not_in_coverage', 'not_in_namespace']);
    expect(assignVariant({ ...base, hashValue: '' })).toMatchObject({ inExperiment: false, reason: 'not_in_coverage' });
  });

  it('holds out exactly the units GrowthBook puts in the holdout experiment (its first `share` of hash v2 under the holdout seed)', () => {
    const holdout = { seed: 'holdout_q4', share: 0.05 };
    let heldOut = 0;
    for (const id of IDS) {
      const ours = assignVariant({ key: 'e', weights: [0.5, 0.5], coverage: 1, hashValue: id, holdout });
      const inHoldout = sdkVariation({ key: holdout.seed, weights: [holdout.share, 1 - holdout.share], coverage: 1 }, id).index === 0;
      expect(ours.reason === 'holdout').toBe(inHoldout);
      if (inHoldout) heldOut++;
    }
    expect(heldOut / IDS.length).toBeGreaterThan(0.045);
    expect(heldOut / IDS.length).toBeLessThan(0.055);
  });
});

describe('coverage changes', () => {
  it('lowering coverage moves nobody to another arm (units only leave), raising it only adds units', () => {
    const weights = [0.2, 0.3, 0.5];
    const coverages = [1, 0.8, 0.5, 0.2, 0.05];
    const arms = coverages.map((coverage) => IDS.map((id) => assignVariant({ key: 'cov', seed: 's', weights, coverage, hashValue: id }).variantIndex));
    let left = 0;
    for (let c = 1; c < coverages.length; c++) {
      for (let i = 0; i < IDS.length; i++) {
        const before = arms[c - 1]?.[i] ?? null;
        const after = arms[c]?.[i] ?? null;
        if (after !== null) expect(after).toBe(before);
        if (before !== null && after === null) left++;
      }
    }
    expect(left).toBeGreaterThan(90_000);
  });

  it('keeps each range start fixed: range i is [sum of earlier weights, + coverage * w_i)', () => {
    expect(chooseVariant(0.29, [0.5, 0.5], 0.6)).toBe(0);
    expect(chooseVariant(0.3, [0.5, 0.5], 0.6)).toBe(-1);
    expect(chooseVariant(0.5, [0.5, 0.5], 0.6)).toBe(1);
    expect(chooseVariant(0.79, [0.5, 0.5], 0.6)).toBe(1);
    expect(chooseVariant(0.8, [0.5, 0.5], 0.6)).toBe(-1);
  });
});

describe('hashes', () => {
  it('fnv1a32 gives the published FNV-1a test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
  it('hashV2 hashes the decimal string of the first hash again', () => {
    expect(hashV2('s', 'x')).toBe((fnv1a32(String(fnv1a32('sx'))) % 10000) / 10000);
  });
});
