/**
 * The arithmetic of explaining a metric's change between two periods, over values already
 * computed by the semantic layer (one grouped query per dimension and period): each
 * value's contribution, Kitagawa's mix and rate effects for ratio metrics, and
 * Adtributor's ranking (Bhagwan et al., NSDI 2014) by explanatory power and surprise
 * (Jensen-Shannon divergence), with ThirdEye's pruning of values under a share of the change.
 */

/** One value of a dimension in both periods; `num`/`den` are a ratio metric's parts. */
export interface ChangeCell {
  /** The dimension value as the metric result holds it (null is a value like any other). */
  readonly value: unknown;
  readonly base: number | null;
  readonly current: number | null;
  readonly baseNum?: number | null;
  readonly baseDen?: number | null;
  readonly currentNum?: number | null;
  readonly currentDen?: number | null;
}

export interface CellContribution {
  readonly value: unknown;
  readonly base: number | null;
  readonly current: number | null;
  /** The value's part of the change: current - base (additive), mix + rate effect (ratio). */
  readonly change: number;
  /** change / the total change (null when the total change is 0). */
  readonly share: number | null;
}

export interface MixRateEffect {
  readonly value: unknown;
  readonly mixEffect: number;
  readonly rateEffect: number;
}

const n = (x: number | null | undefined): number => (x === null || x === undefined || !Number.isFinite(x) ? 0 : x);

/**
 * Kitagawa's decomposition of a ratio R = N / D over a partition: with weights
 * w = D_i / D and rates r = N_i / D_i, R = sum w r, and
 * R1 - R0 = sum (w1 - w0)(r0 + r1)/2 + sum (r1 - r0)(w0 + w1)/2 exactly (no residual).
 * A value absent in one period (no denominator) takes the other period's rate, so its
 * rate effect is 0 and the whole of it is mix. Returns the ratio of both periods as the
 * parts add up, and the effects per value.
 */
export function kitagawa(cells: readonly ChangeCell[]): { base: number | null; current: number | null; effects: MixRateEffect[] } {
  const d0 = cells.reduce((s, c) => s + n(c.baseDen), 0);
  const d1 = cells.reduce((s, c) => s + n(c.currentDen), 0);
  const n0 = cells.reduce((s, c) => s + n(c.baseNum), 0);
  const n1 = cells.reduce((s, c) => s + n(c.currentNum), 0);
  const effects = cells.map((c): MixRateEffect => {
    const w0 = d0 === 0 ? 0 : n(c.baseDen) / d0;
    const w1 = d1 === 0 ? 0 : n(c.currentDen) / d1;
    const rate = (num: number | null | undefined, den: number | null | undefined) => (n(den) === 0 ? undefined : n(num) / n(den));
    const r0raw = rate(c.baseNum, c.baseDen);
    const r1raw = rate(c.currentNum, c.currentDen);
    const r0 = r0raw ?? r1raw ?? 0;
    const r1 = r1raw ?? r0raw ?? 0;
    return { value: c.value, mixEffect: ((w1 - w0) * (r0 + r1)) / 2, rateEffect: ((r1 - r0) * (w0 + w1)) / 2 };
  });
  return { base: d0 === 0 ? null : n0 / d0, current: d1 === 0 ? null : n1 / d1, effects };
}

/** Each value's contribution: for an additive metric its own change, for a ratio its mix plus rate effect. */
export function contributions(cells: readonly ChangeCell[], totalChange: number, ratio: boolean): CellContribution[] {
  const effects = ratio ? kitagawa(cells).effects : undefined;
  return cells.map((c, i) => {
    const effect = effects?.[i];
    const change = effect ? effect.mixEffect + effect.rateEffect : n(c.current) - n(c.base);
    return { value: c.value, base: c.base, current: c.current, change, share: totalChange === 0 ? null : change / totalChange };
  });
}

/** One value's term of the Jensen-Shannon divergence between shares p (base) and q (current). */
export function jsTerm(p: number, q: number): number {
  const m = (p + q) / 2;
  const part = (x: number) => (x > 0 && m > 0 ? x * Math.log2(x / m) : 0);
  return (part(p) + part(q)) / 2;
}

/** Surprise of each value: its Jensen-Shannon term between the base and current shares of a non-negative measure. */
export function surprises(base: readonly number[], current: readonly number[]): number[] {
  const total0 = base.reduce((s, x) => s + Math.abs(x), 0);
  const total1 = current.reduce((s, x) => s + Math.abs(x), 0);
  return base.map((b, i) => jsTerm(total0 === 0 ? 0 : Math.abs(b) / total0, total1 === 0 ? 0 : Math.abs(current[i] ?? 0) / total1));
}

export interface AdtributorOptions {
  /** Least explanatory power of a value to join a candidate set (Adtributor's T_EEP). */
  readonly minElementPower: number;
  /** Explanatory power a candidate set must reach (T_EP). */
  readonly minSetPower: number;
  /** Most values in one candidate set. */
  readonly maxMembers: number;
  /** Most candidate sets returned. */
  readonly maxExplanations: number;
  /** ThirdEye's pruning: values whose change is under this share of the total change never explain it. */
  readonly minChangeShare: number;
}

export const ADTRIBUTOR_DEFAULTS: AdtributorOptions = { minElementPower: 0.1, minSetPower: 0.67, maxMembers: 3, maxExplanations: 3, minChangeShare: 0.03 };

/** One dimension's values, scored. `hidden` values (small cells) never explain. */
export interface ScoredDimension {
  readonly dimension: string;
  readonly values: readonly { readonly value: unknown; readonly power: number; readonly surprise: number; readonly hidden: boolean }[];
}

export interface Explanation {
  readonly members: readonly { readonly dimension: string; readonly value: unknown }[];
  readonly explanatoryPower: number;
  readonly surprise: number;
}

/**
 * Adtributor's search: per dimension, values in decreasing surprise join the candidate set
 * when their explanatory power exceeds `minElementPower` (and their change is not pruned),
 * until the set explains `minSetPower` of the change; sets reaching it are ranked by their
 * surprise across dimensions.
 */
export function adtributor(dimensions: readonly ScoredDimension[], options: AdtributorOptions = ADTRIBUTOR_DEFAULTS): Explanation[] {
  const found: Explanation[] = [];
  for (const dimension of dimensions) {
    const members: { dimension: string; value: unknown }[] = [];
    let power = 0;
    let surprise = 0;
    const ordered = [...dimension.values].sort((a, b) => b.surprise - a.surprise);
    for (const v of ordered) {
      if (v.hidden || v.power <= options.minElementPower || Math.abs(v.power) < options.minChangeShare) continue;
      members.push({ dimension: dimension.dimension, value: v.value });
      power += v.power;
      surprise += v.surprise;
      if (power >= options.minSetPower || members.length >= options.maxMembers) break;
    }
    if (members.length > 0 && power >= options.minSetPower) found.push({ members, explanatoryPower: power, surprise });
  }
  return found.sort((a, b) => b.surprise - a.surprise || b.explanatoryPower - a.explanatoryPower).slice(0, options.maxExplanations);
}
