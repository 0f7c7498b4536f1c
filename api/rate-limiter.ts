import { OPERATION_CLASSES, type OperationClass } from '../services/authorization.ts';

/** A token bucket: `perSecond` tokens flow in, at most `burst` are kept. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** One limit per operation class; null leaves the class unlimited. */
export type RateLimits = Readonly<Record<OperationClass, RateLimit | null>>;

/**
 * Defaults per caller and per server instance: generous for app traffic, tight on analytics
 * (metric queries, previews, insight, audience counts), which is where differencing
 * queries against the small-cell protection come from.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  profiles: { perSecond: 2_000, burst: 4_000 },
  events: { perSecond: 1_000, burst: 2_000 },
  analytics: { perSecond: 5, burst: 20 },
  definitions: { perSecond: 10, burst: 40 },
  catalog: { perSecond: 50, burst: 100 },
};

/** The environment variable that sets a class's limit. */
export function rateVariable(operationClass: OperationClass): string {
  return `STRATA_RATE_${operationClass.toUpperCase()}`;
}

/** What a caller asks for in one request: tokens per class. */
export type Demand = readonly (readonly [OperationClass, number])[];

/** A refused demand: which class ran dry, its limit, and when enough tokens will be there. */
export interface Refusal {
  readonly operationClass: OperationClass;
  readonly limit: RateLimit;
  readonly retryAfterSeconds: number;
  /** The request alone asks for more than the burst: no wait will admit it. */
  readonly exceedsBurst: boolean;
}

export interface RateLimiter {
  /**
   * Takes the tokens of a demand from the caller's buckets, all or none; returns the refusal
   * when one class has too few (nothing is taken then).
   */
  admit(caller: string, demand: Demand): Refusal | undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

const SWEEP_EVERY_MS = 60_000;

/**
 * In-process token buckets per caller and class. Buckets refill lazily when a caller asks,
 * so an idle caller costs nothing; once a minute buckets that have refilled completely are
 * dropped (a new one starts full, so dropping them changes no answer).
 *
 * ```ts
 * const limiter = createRateLimiter({ ...DEFAULT_RATE_LIMITS, analytics: { perSecond: 1, burst: 2 } });
 * limiter.admit('key bi', [['analytics', 1]]); // undefined: admitted
 * ```
 */
export function createRateLimiter(limits: RateLimits, now: () => number = () => performance.now()): RateLimiter {
  const buckets = new Map<OperationClass, Map<string, Bucket>>(OPERATION_CLASSES.map((c) => [c, new Map()]));
  let sweptAt = now();

  const level = (bucket: Bucket | undefined, limit: RateLimit, at: number): number =>
    bucket === undefined ? limit.burst : Math.min(limit.burst, bucket.tokens + ((at - bucket.at) / 1000) * limit.perSecond);

  const sweep = (at: number) => {
    sweptAt = at;
    for (const [operationClass, callers] of buckets) {
      const limit = limits[operationClass];
      for (const [caller, bucket] of callers) if (!limit || level(bucket, limit, at) >= limit.burst) callers.delete(caller);
    }
  };

  return {
    admit(caller, demand) {
      const at = now();
      if (at - sweptAt > SWEEP_EVERY_MS) sweep(at);
      for (const [operationClass, tokens] of demand) {
        const limit = limits[operationClass];
        if (!limit) continue;
        if (tokens > limit.burst) return { operationClass, limit, retryAfterSeconds: Math.ceil(limit.burst / limit.perSecond), exceedsBurst: true };
        const available = level(buckets.get(operationClass)?.get(caller), limit, at);
        if (available < tokens)
          return { operationClass, limit, retryAfterSeconds: Math.max(1, Math.ceil((tokens - available) / limit.perSecond)), exceedsBurst: false };
      }
      for (const [operationClass, tokens] of demand) {
        const limit = limits[operationClass];
        if (!limit) continue;
        const callers = buckets.get(operationClass) as Map<string, Bucket>;
        const bucket = callers.get(caller);
        const available = level(bucket, limit, at);
        if (bucket) {
          bucket.tokens = available - tokens;
          bucket.at = at;
        } else callers.set(caller, { tokens: available - tokens, at });
      }
      return undefined;
    },
  };
}

/**
 * Parses `RATE[/BURST]` (requests per second, burst defaulting to twice the rate, at least 1)
 * or `off`.
 *
 * ```ts
 * parseRateLimit('5/20'); // { perSecond: 5, burst: 20 }
 * ```
 */
export function parseRateLimit(text: string): RateLimit | null {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'off' || trimmed === 'none') return null;
  const match = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(trimmed);
  const perSecond = Number(match?.[1]);
  const burst = match?.[2] === undefined ? Math.max(1, Math.ceil(perSecond * 2)) : Number(match[2]);
  if (!match || !(perSecond > 0) || !(burst >= 1))
    throw new Error(`expected RATE/BURST in requests per second (e.g. 5/20) or off; got ${JSON.stringify(text)}`);
  return { perSecond, burst };
}
