/** Failed authentications allowed per address and window, and how many addresses are tracked. */
export interface ThrottleOptions {
  /** Failures an address may make within a window; 0 turns the throttle off. */
  readonly limit: number;
  readonly windowMs: number;
  /** Most addresses tracked at once (memory bound); the oldest windows are forgotten first. */
  readonly maxAddresses?: number;
}

export interface AuthThrottle {
  /** Seconds until `address` may try again; 0 when it may try now. */
  retryAfter(address: string, now?: number): number;
  /** Counts one failed authentication from `address`. */
  fail(address: string, now?: number): void;
  /** Addresses currently tracked. */
  readonly size: number;
}

const DEFAULT_MAX_ADDRESSES = 50_000;

/**
 * Per-address throttle of failed authentications with a fixed window that opens at an
 * address's first failure: after `limit` failures the address is refused until the window
 * ends, whatever it sends. Memory is bounded: when the table is full, expired windows are
 * swept, then the oldest tenth is forgotten (an attacker rotating through many addresses
 * gains nothing an attacker with that many addresses would not have anyway).
 */
export function createAuthThrottle(options: ThrottleOptions): AuthThrottle {
  const max = options.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  /** In insertion order: the first entries have the oldest windows. */
  const windows = new Map<string, { start: number; failures: number }>();

  const makeRoom = (now: number) => {
    for (const [address, window] of windows) if (now - window.start >= options.windowMs) windows.delete(address);
    if (windows.size < max) return;
    let excess = Math.max(1, Math.ceil(max / 10));
    for (const address of windows.keys()) {
      windows.delete(address);
      if ((excess -= 1) === 0) break;
    }
  };

  return {
    retryAfter(address, now = Date.now()) {
      const window = windows.get(address);
      if (options.limit === 0 || !window || window.failures < options.limit) return 0;
      const left = window.start + options.windowMs - now;
      return left > 0 ? Math.ceil(left / 1000) : 0;
    },
    fail(address, now = Date.now()) {
      if (options.limit === 0) return;
      const window = windows.get(address);
      if (window && now - window.start < options.windowMs) {
        window.failures += 1;
        return;
      }
      windows.delete(address);
      if (windows.size >= max) makeRoom(now);
      windows.set(address, { start: now, failures: 1 });
    },
    get size() {
      return windows.size;
    },
  };
}
