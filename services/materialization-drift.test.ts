import { describe, expect, it } from 'vitest';
import { distributionDrift, excessiveDrift, MIN_VALUE_CUSTOMERS } from './materialization-drift.ts';
import { isCalendarDate } from '../modeling/catalog/calendar-date.ts';

const run = (customers: number, values: Record<string, number>) => ({
  customers,
  coverage: { tier: { covered: Object.values(values).reduce((a, b) => a + b, 0), values } },
});

describe('distributionDrift', () => {
  it('is zero for the same distribution, and the share of all customers that must have moved otherwise', () => {
    expect(distributionDrift(run(100, { a: 60, b: 40 }), run(100, { a: 60, b: 40 })).tier?.share).toBe(0);
    // 30 customers moved from b to a: 30% of all, and 75% of b's 40.
    const d = distributionDrift(run(100, { a: 60, b: 40 }), run(100, { a: 90, b: 10 })).tier;
    expect(d?.overall).toBeCloseTo(0.3, 12);
    expect(d?.value).toEqual({ value: 'b', before: 40, after: 10, share: 0.75 });
    expect(d?.share).toBe(0.75);
  });

  it('counts customers without a value as the value null', () => {
    // 20 of 100 customers lose their value: null grows from 0 to 20.
    const d = distributionDrift(run(100, { a: 100 }), run(100, { a: 80 })).tier;
    expect(d?.overall).toBeCloseTo(0.2, 12);
    expect(d?.value).toEqual({ value: 'a', before: 100, after: 80, share: 0.2 });
  });

  it('sees a small value collapse that moves few customers overall, but not values too small to count', () => {
    const big = 2_000;
    const d = distributionDrift(run(big, { mass: big - 100, affluent: 100 }), run(big, { mass: big })).tier;
    expect(d?.overall).toBeCloseTo(0.05, 12);
    expect(d?.share).toBe(1);
    const tiny = MIN_VALUE_CUSTOMERS - 1;
    const small = distributionDrift(run(big, { mass: big - tiny, uhnw: tiny }), run(big, { mass: big })).tier;
    expect(small?.value?.value).toBe('mass');
    expect(small?.share).toBeCloseTo(tiny / big, 12);
  });

  it('has no baseline without customers before, and moves everything when none are left', () => {
    expect(distributionDrift(run(0, {}), run(10, { a: 10 }))).toEqual({});
    expect(distributionDrift(run(10, { a: 10 }), run(0, {})).tier?.share).toBe(1);
  });

  it('lists the tags beyond the limit, largest first, and only strictly beyond it', () => {
    const drift = { a: { share: 0.2, overall: 0.2, value: null }, b: { share: 0.5, overall: 0.5, value: null }, c: { share: 0.3, overall: 0.3, value: null } };
    expect(excessiveDrift(drift, 0.2).map(([tag]) => tag)).toEqual(['b', 'c']);
  });
});

describe('isCalendarDate', () => {
  it.each([
    ['2024-02-29', true],
    ['2026-02-28', true],
    ['0001-01-01', true],
    ['2026-02-30', false],
    ['2025-02-29', false],
    ['2026-13-01', false],
    ['2026-00-10', false],
    ['2026-6-1', false],
    ['2026-06-01T00:00', false],
    ['', false],
  ])('%s -> %s', (value, expected) => {
    expect(isCalendarDate(value)).toBe(expected);
  });
});
