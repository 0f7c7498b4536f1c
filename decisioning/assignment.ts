/**
 * Deterministic experiment assignment, equal to GrowthBook's SDK (hash version 2).
 *
 * Pure: no database, no Node-specific imports; the decision path calls it per request.
 */

/** 32-bit FNV-1a over the UTF-16 code units of `s` (as GrowthBook's `hashFnv32a`). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * GrowthBook hash v2: a number in [0, 1) with 4 decimals.
 * @example hashV2('exp', 'c000042') // same as GrowthBook `hash('exp', 'c000042', 2)`
 */
export function hashV2(seed: string, value: string): number {
  return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
}

/** GrowthBook hash v1 (biased, kept by GrowthBook for namespaces): `(fnv1a32(value + seed) % 1000) / 1000`. */
export function hashV1(seed: string, value: string): number {
  return (fnv1a32(value + seed) % 1000) / 1000;
}

export interface ExperimentAssignmentInput {
  key: string;
  /** Defaults to `key` (an empty seed too, as in GrowthBook). */
  seed?: string;
  /** Share of the traffic in the experiment, 0..1 (clamped like GrowthBook). */
  coverage: number;
  /** One weight per variant, summing to 1 (within 0.99..1.01); otherwise equal weights, as GrowthBook does. */
  weights: number[];
  /** The unit hashed: the customer id. */
  hashValue: string;
  /** GrowthBook namespace `[id, from, to]`: in it when hash v1 of `__${id}` lies in [from, to). */
  namespace?: { id: string; range: [number, number] };
  /**
   * Holdout as GrowthBook defines it: its own hash-v2 split under the holdout's seed; a unit
   * whose bucket lies in [0, share) is held out of the experiment (sees the default).
   */
  holdout?: { seed: string; share: number };
}

export interface Assignment {
  inExperiment: boolean;
  variantIndex: number | null;
  /** The experiment's hash v2 bucket of `hashValue` in [0, 1). */
  hashBucket: number;
  reason: 'assigned' | 'not_in_coverage' | 'not_in_namespace' | 'holdout';
}

/** Weights as GrowthBook lays them out: equal weights when the count or the sum is off. */
function effectiveWeights(weights: readonly number[], count: number): readonly number[] {
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (weights.length !== count || total < 0.99 || total > 1.01) return new Array(count).fill(1 / count);
  return weights;
}

/**
 * The variant index for bucket `n`: GrowthBook's getBucketRanges + chooseVariation without
 * allocating the ranges. Range i is `[start_i, start_i + coverage * w_i)` where `start_i`
 * is the sum of the weights before i: coverage shortens each range but keeps its start, so
 * lowering coverage never moves a unit to another arm.
 */
export function chooseVariant(n: number, weights: readonly number[], coverage: number): number {
  const c = Math.min(Math.max(coverage, 0), 1);
  let start = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (n >= start && n < start + c * w) return i;
    start += w;
  }
  return -1;
}

/**
 * Assigns a unit to an experiment arm exactly as GrowthBook's `run` with `hashVersion: 2`:
 * namespace first, then the holdout (a prerequisite in GrowthBook), then the coverage-shrunk
 * weight ranges. A missing hash value (empty id) is never in the experiment.
 * @example assignVariant({ key: 'home_banner_copy', coverage: 1, weights: [0.5, 0.5], hashValue: 'c000042' })
 */
export function assignVariant(input: ExperimentAssignmentInput): Assignment {
  const seed = input.seed || input.key;
  const n = hashV2(seed, input.hashValue);
  const out = (reason: Assignment['reason']): Assignment => ({
    inExperiment: false,
    variantIndex: null,
    hashBucket: n,
    reason,
  });
  const count = input.weights.length;
  if (count < 2 || input.hashValue === '') return out('not_in_coverage');
  const ns = input.namespace;
  if (ns) {
    const h = hashV1(`__${ns.id}`, input.hashValue);
    if (!(h >= ns.range[0] && h < ns.range[1])) return out('not_in_namespace');
  }
  const holdout = input.holdout;
  if (holdout && holdout.share > 0 && hashV2(holdout.seed, input.hashValue) < holdout.share) return out('holdout');
  const index = chooseVariant(n, effectiveWeights(input.weights, count), input.coverage);
  if (index < 0) return out('not_in_coverage');
  return { inExperiment: true, variantIndex: index, hashBucket: n, reason: 'assigned' };
}
