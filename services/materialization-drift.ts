/** Per tag: customers with a value, and customers per value (what a run records as coverage). */
export type Coverage = Readonly<Record<string, { readonly covered: number; readonly values: Readonly<Record<string, number>> }>>;

/** A run's tag value distributions: its customer count and coverage. */
export interface Distributions {
  readonly customers: number;
  readonly coverage: Coverage;
}

/** How far one tag's values moved between two runs. */
export interface TagDrift {
  /** What the guard compares with its limit: the larger of `overall` and `value.share`. */
  readonly share: number;
  /** Total-variation distance: the least share of all customers whose value changed. */
  readonly overall: number;
  /** The value, among those held by at least MIN_VALUE_CUSTOMERS in either run, whose count moved most relative to its larger count. */
  readonly value: { readonly value: string | null; readonly before: number; readonly after: number; readonly share: number } | null;
}

/** The configured default: a run that moves more than this share of customers in any tag is held. */
export const DEFAULT_MAX_DRIFT = 0.2;

/** A value held by fewer customers than this (in both runs) is too small for a share of it to count on its own. */
export const MIN_VALUE_CUSTOMERS = 30;

/**
 * Per tag present in both runs, the largest share of customers that moved: of all customers
 * (the total-variation distance between the value distributions, null counted as a value:
 * half the sum of the absolute differences of the shares), or of the customers holding one
 * value (its count's change over the larger of its two counts, for values held by at least
 * MIN_VALUE_CUSTOMERS). The second catches a collapse of a small but important value: when
 * 94% of customers are `mass`, every `affluent` and `hnw` customer turning `mass` moves only
 * 6% of all customers, but 100% of the `affluent` ones. Empty when `before` has no customers.
 *
 * ```ts
 * distributionDrift({ customers: 100, coverage: { t: { covered: 100, values: { a: 60, b: 40 } } } },
 *                   { customers: 100, coverage: { t: { covered: 100, values: { a: 90, b: 10 } } } }).t.share; // 0.75 (b: 40 -> 10)
 * ```
 */
export function distributionDrift(before: Distributions, after: Distributions): Record<string, TagDrift> {
  const drift: Record<string, TagDrift> = {};
  if (before.customers <= 0) return drift;
  for (const [tag, old] of Object.entries(before.coverage)) {
    const now = after.coverage[tag];
    if (now) drift[tag] = tagDrift(counts(old, before.customers), before.customers, counts(now, after.customers), after.customers);
  }
  return drift;
}

function tagDrift(before: Map<string | null, number>, beforeTotal: number, after: Map<string | null, number>, afterTotal: number): TagDrift {
  let variation = 0;
  let value: TagDrift['value'] = null;
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const [b, a] = [before.get(key) ?? 0, after.get(key) ?? 0];
    variation += Math.abs((afterTotal > 0 ? a / afterTotal : 0) - b / beforeTotal);
    const larger = Math.max(a, b);
    if (larger < MIN_VALUE_CUSTOMERS) continue;
    const share = Math.abs(a - b) / larger;
    if (!value || share > value.share) value = { value: key, before: b, after: a, share };
  }
  const overall = afterTotal > 0 ? variation / 2 : 1;
  return { share: Math.max(overall, value?.share ?? 0), overall, value };
}

/** Customers per value, null included. */
function counts(coverage: Coverage[string], customers: number): Map<string | null, number> {
  const result = new Map<string | null, number>(Object.entries(coverage.values));
  result.set(null, Math.max(0, customers - coverage.covered));
  return result;
}

/** Tags whose drift exceeds `maxDrift`, largest first. */
export function excessiveDrift(drift: Readonly<Record<string, TagDrift>>, maxDrift: number): [tag: string, drift: TagDrift][] {
  return Object.entries(drift)
    .filter(([, d]) => d.share > maxDrift)
    .sort((a, b) => b[1].share - a[1].share || a[0].localeCompare(b[0]));
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** `aum_tier 100.0% (affluent 41 -> 0 customers; 5.1% of all customers moved)`. */
export function describeDrift(entries: readonly (readonly [string, TagDrift])[]): string {
  return entries
    .map(([tag, d]) => {
      const detail =
        d.value && d.value.share >= d.overall
          ? `${d.value.value ?? 'null'} ${d.value.before} -> ${d.value.after} customers; ${percent(d.overall)} of all customers moved`
          : 'of all customers';
      return `${tag} ${percent(d.share)} (${detail})`;
    })
    .join(', ');
}
