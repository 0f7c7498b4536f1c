/**
 * A small seeded pseudo-random generator (mulberry32) with the draws the demo data needs.
 * Every stream is derived from `(seed, stream, index)`, so customer 12,345 gets the same
 * numbers whether the run is chunked by 500 or by 50,000 customers. No `Math.random`.
 *
 * ```ts
 * const random = createRandom(42, STREAM.profile, 0);
 * random.pick(['app', 'web'], [3, 1]);
 * ```
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform in [low, high). */
  between(low: number, high: number): number;
  chance(p: number): boolean;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Log-normal with the given median and log-scale spread. */
  logNormal(median: number, sigma: number): number;
  /** Exponential with the given mean. */
  exponential(mean: number): number;
  /** An index drawn with the given (not necessarily normalised) weights. */
  weighted(weights: readonly number[]): number;
  pick<T>(values: readonly T[], weights?: readonly number[]): T;
  /** `length` lowercase hexadecimal digits. */
  hex(length: number): string;
}

/** Stream ids: one independent sequence per concept, so adding draws to one leaves the others unchanged. */
export const STREAM = {
  profile: 1,
  activity: 2,
  visitor: 3,
  catalog: 4,
  nav: 5,
  risk: 6,
} as const;

export function createRandom(seed: number, stream: number, index: number): Random {
  return new Mulberry32(mix32(mix32(mix32(seed >>> 0) ^ Math.imul(stream + 1, 0x9e3779b1)) ^ Math.imul(index + 1, 0x85ebca77)));
}

class Mulberry32 implements Random {
  #state: number;

  constructor(state: number) {
    this.#state = state;
  }

  next(): number {
    const state = (this.#state = (this.#state + 0x6d2b79f5) | 0);
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  between(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  pick<T>(values: readonly T[], weights?: readonly number[]): T {
    return values[weights ? this.weighted(weights) : this.int(values.length)]!;
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) out += ((this.next() * 4294967296) >>> 0).toString(16).padStart(8, '0');
    return out.slice(0, length);
  }
}

/** murmur3's 32-bit finaliser: spreads every input bit over the whole word. */
function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
