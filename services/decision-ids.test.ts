import { describe, expect, it } from 'vitest';
import { decisionIdFor, timeOrderedId } from './decisions.ts';

describe('decision ids', () => {
  it('orders new ids by their millisecond, random within one', () => {
    const times = [0, 1, 255, 256, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1];
    const ids = times.map((t) => timeOrderedId(t));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.map((id) => Number.parseInt(id.slice(0, 12), 16))).toEqual(times);
    const sameMillisecond = new Set(Array.from({ length: 1000 }, () => timeOrderedId(1_700_000_000_000)));
    expect(sameMillisecond.size).toBe(1000);
  });

  it('starts a decision id without idempotency key with the current millisecond, and derives one with a key', () => {
    const before = Date.now();
    const id = decisionIdFor('c000001', 'home_banner', null);
    const after = Date.now();
    expect(id).toMatch(/^dec_[0-9a-f]{32}$/);
    const at = Number.parseInt(id.slice(4, 16), 16);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
    expect(decisionIdFor('c000001', 'home_banner', 'retry-key-1')).toBe(decisionIdFor('c000001', 'home_banner', 'retry-key-1'));
    expect(decisionIdFor('c000001', 'home_banner', 'retry-key-1')).not.toBe(decisionIdFor('c000001', 'wealth_mall_top', 'retry-key-1'));
  });
});
