import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { createAuthThrottle } from '../api/auth-throttle.ts';
import { addressKey, clientAddress } from '../api/client-address.ts';

/** The throttle of failed authentications (api/auth-throttle.ts) and the address it counts by. */

const request = (remoteAddress: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('failed-authentication throttle', () => {
  const WINDOW = 60_000;

  it('refuses an address after the limit until its window passes, and no other address', () => {
    const throttle = createAuthThrottle({ limit: 3, windowMs: WINDOW });
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i += 1) {
      expect(throttle.retryAfter('10.0.0.1', t0 + i)).toBe(0);
      throttle.fail('10.0.0.1', t0 + i);
    }
    expect(throttle.retryAfter('10.0.0.1', t0 + 10)).toBe(60);
    expect(throttle.retryAfter('10.0.0.1', t0 + 30_500)).toBe(30);
    expect(throttle.retryAfter('10.0.0.2', t0 + 10)).toBe(0);
    expect(throttle.retryAfter('10.0.0.1', t0 + WINDOW)).toBe(0);
    throttle.fail('10.0.0.1', t0 + WINDOW);
    expect(throttle.retryAfter('10.0.0.1', t0 + WINDOW + 1)).toBe(0);
  });

  it('counts failures within one window only', () => {
    const throttle = createAuthThrottle({ limit: 2, windowMs: WINDOW });
    throttle.fail('10.0.0.3', 0);
    throttle.fail('10.0.0.3', WINDOW + 1);
    expect(throttle.retryAfter('10.0.0.3', WINDOW + 2)).toBe(0);
    throttle.fail('10.0.0.3', WINDOW + 3);
    expect(throttle.retryAfter('10.0.0.3', WINDOW + 4)).toBeGreaterThan(0);
  });

  it('is off with a limit of 0', () => {
    const throttle = createAuthThrottle({ limit: 0, windowMs: WINDOW });
    for (let i = 0; i < 100; i += 1) throttle.fail('10.0.0.4', i);
    expect(throttle.retryAfter('10.0.0.4', 100)).toBe(0);
    expect(throttle.size).toBe(0);
  });

  it('bounds its memory, forgetting expired windows first and then the oldest', () => {
    const throttle = createAuthThrottle({ limit: 1, windowMs: WINDOW, maxAddresses: 100 });
    for (let i = 0; i < 100; i += 1) throttle.fail(`10.1.0.${i}`, 0);
    throttle.fail('10.2.0.1', WINDOW + 1);
    expect(throttle.size).toBe(1);
    for (let i = 0; i < 10_000; i += 1) throttle.fail(`10.3.${i >> 8}.${i & 255}`, WINDOW + 2);
    expect(throttle.size).toBeLessThanOrEqual(100);
    expect(throttle.retryAfter('10.3.39.15', WINDOW + 3)).toBeGreaterThan(0);
  });
});

describe('client address', () => {
  it('uses the socket peer and ignores X-Forwarded-For unless proxies are trusted', () => {
    expect(clientAddress(request('203.0.113.9', '198.51.100.1'), 0)).toBe('203.0.113.9');
    expect(clientAddress(request('10.0.0.1', '198.51.100.1, 192.0.2.7'), 1)).toBe('192.0.2.7');
    expect(clientAddress(request('10.0.0.1', '198.51.100.1, 192.0.2.7'), 2)).toBe('198.51.100.1');
    expect(clientAddress(request('10.0.0.1', 'garbage'), 1)).toBe('10.0.0.1');
    expect(clientAddress(request('10.0.0.1'), 1)).toBe('10.0.0.1');
  });

  it('counts IPv4-mapped addresses as IPv4 and IPv6 by /64 network', () => {
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('2001:db8:abcd:12::1')).toBe('2001:db8:abcd:12::/64');
    expect(addressKey('2001:db8:abcd:12:ffff:1:2:3')).toBe('2001:db8:abcd:12::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});
