import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createRateLimiter, DEFAULT_RATE_LIMITS, parseRateLimit, type RateLimits } from './rate-limiter.ts';
import { loadConfig } from './config.ts';

const LIMITS: RateLimits = { ...DEFAULT_RATE_LIMITS, analytics: { perSecond: 2, burst: 4 }, events: null };

/** A limiter on a clock the test moves by hand. */
function limiterAt(limits: RateLimits = LIMITS) {
  let ms = 0;
  const limiter = createRateLimiter(limits, () => ms);
  return { limiter, advance: (by: number) => (ms += by) };
}

describe('the per-key token buckets', () => {
  it('admits a burst, then refuses with the wait until enough tokens have flowed back', () => {
    const { limiter, advance } = limiterAt();
    for (let i = 0; i < 4; i += 1) expect(limiter.admit('key bi', [['analytics', 1]])).toBeUndefined();
    expect(limiter.admit('key bi', [['analytics', 1]])).toEqual({
      operationClass: 'analytics',
      limit: { perSecond: 2, burst: 4 },
      retryAfterSeconds: 1,
      exceedsBurst: false,
    });
    advance(499);
    expect(limiter.admit('key bi', [['analytics', 1]])).toMatchObject({ retryAfterSeconds: 1 });
    advance(1);
    expect(limiter.admit('key bi', [['analytics', 1]])).toBeUndefined();
    expect(limiter.admit('key bi', [['analytics', 3]])).toMatchObject({ retryAfterSeconds: 2 });
  });

  it('keeps one bucket per caller and per class', () => {
    const { limiter } = limiterAt();
    expect(limiter.admit('key bi', [['analytics', 4]])).toBeUndefined();
    expect(limiter.admit('key bi', [['analytics', 1]])).toBeDefined();
    expect(limiter.admit('key other', [['analytics', 4]])).toBeUndefined();
    expect(limiter.admit('key bi', [['profiles', 4_000]])).toBeUndefined();
    expect(limiter.admit('key bi', [['events', 1_000_000]])).toBeUndefined();
  });

  it('takes all the classes of a request or none', () => {
    const { limiter } = limiterAt();
    expect(limiter.admit('key bi', [['analytics', 3]])).toBeUndefined();
    expect(
      limiter.admit('key bi', [
        ['catalog', 100],
        ['analytics', 2],
      ]),
    ).toMatchObject({ operationClass: 'analytics' });
    expect(limiter.admit('key bi', [['catalog', 100]])).toBeUndefined();
  });

  it('refuses a request larger than the burst as one no wait can admit', () => {
    const { limiter } = limiterAt();
    expect(limiter.admit('key bi', [['analytics', 5]])).toMatchObject({ exceedsBurst: true });
    expect(limiter.admit('key bi', [['analytics', 4]])).toBeUndefined();
  });

  it('forgets full buckets after a minute without changing any answer', () => {
    const { limiter, advance } = limiterAt();
    expect(limiter.admit('key bi', [['analytics', 4]])).toBeUndefined();
    advance(61_000);
    for (let i = 0; i < 4; i += 1) expect(limiter.admit('key bi', [['analytics', 1]])).toBeUndefined();
    expect(limiter.admit('key bi', [['analytics', 1]])).toBeDefined();
  });
});

describe('rate limit settings', () => {
  it('reads RATE/BURST, RATE alone (burst twice the rate) and off', () => {
    expect(parseRateLimit('5/20')).toEqual({ perSecond: 5, burst: 20 });
    expect(parseRateLimit('0.5')).toEqual({ perSecond: 0.5, burst: 1 });
    expect(parseRateLimit('off')).toBeNull();
    for (const bad of ['0/10', '5/0', 'fast', '-1', '5/20/1']) expect(() => parseRateLimit(bad)).toThrow(/RATE\/BURST/);
  });

  it('loads the documented defaults and overrides from the environment', () => {
    const defaults = loadConfig({});
    expect(defaults.rateLimits).toEqual(DEFAULT_RATE_LIMITS);
    expect(defaults.graphqlLimits).toEqual({ maxDepth: 8, maxAliases: 15, maxCost: 50_000, maxTokens: 10_000, maxDirectives: 20 });
    expect(defaults.analyticsCapacity).toEqual({ concurrency: Math.max(1, Math.min(4, availableParallelism() - 1)), queue: 32, queueTimeoutMs: 10_000 });
    const set = loadConfig({ STRATA_RATE_ANALYTICS: '1/3', STRATA_RATE_PROFILES: 'off', STRATA_MAX_ALIASES: '40', STRATA_ANALYTICS_CONCURRENCY: '2' });
    expect(set.rateLimits.analytics).toEqual({ perSecond: 1, burst: 3 });
    expect(set.rateLimits.profiles).toBeNull();
    expect(set.graphqlLimits.maxAliases).toBe(40);
    expect(set.analyticsCapacity.concurrency).toBe(2);
    expect(() => loadConfig({ STRATA_RATE_EVENTS: 'lots' })).toThrow(/STRATA_RATE_EVENTS: expected RATE\/BURST/);
  });
});
