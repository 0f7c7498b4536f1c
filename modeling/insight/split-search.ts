import { chiSquareTest } from './statistics.ts';

/** Customers and conversions of one value (or bin) of a feature within a node. */
export interface ValueCounts {
  readonly value: string | null;
  readonly customers: number;
  readonly conversions: number;
}

/** One feature's value counts within a node. */
export interface FeatureCounts {
  readonly feature: number;
  readonly values: readonly ValueCounts[];
}

/** The chosen split of a node: customers with `value` of `feature` against all others (nulls included). */
export interface Split {
  readonly feature: number;
  readonly value: string | null;
  /** Chi-square p-value of the 2 x 2 table (in the group or not) x (converted or not), no continuity correction. */
  readonly pValue: number;
  /** `pValue` times the number of candidate splits at the node (Bonferroni), at most 1. */
  readonly adjustedPValue: number;
  /** The chi-square statistic (1 degree of freedom): candidates are compared on it, as p-values underflow to 0 on large nodes. */
  readonly chiSquare: number;
  readonly inGroup: { readonly customers: number; readonly conversions: number };
  readonly rest: { readonly customers: number; readonly conversions: number };
}

export interface SplitLimits {
  /** Fewest customers each side of a split may have. */
  readonly minChildCustomers: number;
  /** Significance a split must reach after the Bonferroni adjustment. */
  readonly alpha: number;
  /** With a privacy threshold, no side may have 1 to k-1 conversions or non-conversions. */
  readonly privacyK?: number;
}

const smallCell = (n: number, k: number | undefined) => k !== undefined && n > 0 && n < k;

/**
 * The most significant binary split of a node (CHAID-style, value against the rest): every
 * value of every feature is a candidate whose both sides respect the limits; the p-value
 * of each candidate is multiplied by the number of candidates (Bonferroni) and the
 * smallest (the largest chi-square: every candidate has one degree of freedom) wins if it is below alpha. Ties go to the earlier feature, then the larger group.
 */
export function bestSplit(node: { customers: number; conversions: number }, features: readonly FeatureCounts[], limits: SplitLimits): Split | null {
  const candidates: Omit<Split, 'adjustedPValue'>[] = [];
  for (const feature of features) {
    const values = feature.values.filter((v) => v.customers > 0);
    if (values.length < 2) continue;
    for (const v of values.length === 2 ? values.slice(0, 1) : values) {
      const inGroup = { customers: v.customers, conversions: v.conversions };
      const rest = { customers: node.customers - v.customers, conversions: node.conversions - v.conversions };
      if (inGroup.customers < limits.minChildCustomers || rest.customers < limits.minChildCustomers) continue;
      const cells = [inGroup.conversions, inGroup.customers - inGroup.conversions, rest.conversions, rest.customers - rest.conversions];
      if (cells.some((n) => smallCell(n, limits.privacyK))) continue;
      const test = chiSquareTest([
        [inGroup.conversions, inGroup.customers - inGroup.conversions],
        [rest.conversions, rest.customers - rest.conversions],
      ]);
      if (test) candidates.push({ feature: feature.feature, value: v.value, pValue: test.pValue, chiSquare: test.statistic, inGroup, rest });
    }
  }
  let best: Split | null = null;
  for (const c of candidates) {
    const adjustedPValue = Math.min(1, c.pValue * candidates.length);
    const better =
      best === null ||
      c.chiSquare > best.chiSquare ||
      (c.chiSquare === best.chiSquare && (c.feature < best.feature || (c.feature === best.feature && c.inGroup.customers > best.inGroup.customers)));
    if (better) best = { ...c, adjustedPValue };
  }
  return best !== null && best.adjustedPValue < limits.alpha ? best : null;
}
