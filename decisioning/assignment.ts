/**
 * GrowthBook hash v2 and variant assignment. Placeholder with the agreed signature until the
 * `experiments` branch lands its version (which replaces this file on merge).
 */

/** 32-bit FNV-1a of a string's UTF-16 code units, as GrowthBook's SDK computes it. */
export function fnv1a32(s: string): number {
  let hval = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    hval ^= s.charCodeAt(i);
    hval += (hval << 1) + (hval << 4) + (hval << 7) + (hval << 8) + (hval << 24);
  }
  return hval >>> 0;
}

/** GrowthBook's hash v2: a number in [0, 1) from a seed and a value. */
export function hashV2(seed: string, value: string): number {
  return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
}

export interface ExperimentAssignmentInput {
  key: string;
  seed?: string;
  coverage: number;
  weights: number[];
  hashValue: string;
  namespace?: { id: string; range: [number, number] };
  holdout?: { seed: string; share: number };
}

export interface Assignment {
  inExperiment: boolean;
  variantIndex: number | null;
  hashBucket: number;
  reason: 'assigned' | 'not_in_coverage' | 'not_in_namespace' | 'holdout';
}

/** Variant ranges laid out as GrowthBook's `getBucketRanges`: each weight scaled by coverage from its arm's start. */
export function assignVariant(input: ExperimentAssignmentInput): Assignment {
  const hashBucket = hashV2(input.seed ?? input.key, input.hashValue);
  if (input.holdout && hashV2(input.holdout.seed, input.hashValue) < input.holdout.share)
    return { inExperiment: false, variantIndex: null, hashBucket, reason: 'holdout' };
  if (input.namespace) {
    const n = hashV2(`__${input.namespace.id}`, input.hashValue);
    if (n < input.namespace.range[0] || n >= input.namespace.range[1])
      return { inExperiment: false, variantIndex: null, hashBucket, reason: 'not_in_namespace' };
  }
  const total = input.weights.reduce((a, b) => a + b, 0);
  const weights = total > 0 ? input.weights.map((w) => w / total) : input.weights;
  let start = 0;
  for (const [index, weight] of weights.entries()) {
    if (hashBucket >= start && hashBucket < start + weight * input.coverage) return { inExperiment: true, variantIndex: index, hashBucket, reason: 'assigned' };
    start += weight;
  }
  return { inExperiment: false, variantIndex: null, hashBucket, reason: 'not_in_coverage' };
}
