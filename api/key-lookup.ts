import type { Database } from '../store/database.ts';
import { API_KEYS_CHANNEL, findApiKey, keyHash, type StoredKey } from '../store/api-keys.ts';
import { logger } from '../store/logger.ts';
import { isRole, ROLE_CLEARANCE, type Principal } from '../services/authorization.ts';
import { lowerOf } from '../services/access-grants.ts';
import { isSensitivity } from '../modeling/catalog/sensitivity.ts';
import { parseRule } from '../modeling/conditions/parse-rule.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import { BoundedMap } from '../modeling/bounded-map.ts';

/** How long a key found live is trusted without asking the database (while the change feed is live). */
export const KEY_CACHE_MS = 60_000;
/** How long an unknown or revoked key is refused without asking the database. */
export const UNKNOWN_KEY_CACHE_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  readonly principal: Principal | null;
  readonly until: number;
}

export interface KeyLookup {
  /** The principal of a live key, or null for an unknown or revoked one. */
  find(token: string): Promise<Principal | null>;
  /** Stops listening to key changes. */
  close(): void;
}

/**
 * API key lookups by hash with a cache that every key change empties at once: the store
 * notifies `strata_api_keys` with the key's name in the transaction that creates, revokes
 * or replaces it, and this process drops that key (and every cached refusal). A live key
 * is served from the cache only after the change feed syncs: `changes` is the server's view
 * of the feed (api/request-changes.ts), so a key revoked through this instance is refused
 * from its next request, and one revoked on another instance as soon as the notification
 * arrives; by default (`STRATA_CHANGE_PROPAGATION_MS` 0) every request waits for a round
 * trip on the LISTEN connection sent after it arrived (shared by concurrent requests), so
 * no instance serves a revoked key after the revocation committed; with a bound, at the
 * latest on requests arriving that long after it. While the feed is not live
 * (PostgreSQL LISTEN connection down) a live key is looked up on every request; refusals
 * may still come from the cache, since they grant nothing.
 */
export function createKeyLookup(database: Database, changes: ChangeFeed = database.changes): KeyLookup {
  const cache = new BoundedMap<string, Entry>(MAX_ENTRIES);
  /** Bumped by every change, so a lookup that raced a change does not cache what it read. */
  let generation = 0;
  const unsubscribe = changes.subscribe(API_KEYS_CHANNEL, (name) => {
    generation += 1;
    if (name === null) return cache.clear();
    for (const [hash, entry] of cache) if (entry.principal === null || entry.principal.name === name) cache.delete(hash);
  });
  /**
   * The hash of each token seen lately: a token's hash never changes, and hashing it (SHA-256)
   * was the largest cost of a cached lookup, paid on every request of the same key.
   */
  const hashes = new BoundedMap<string, string>(MAX_ENTRIES);
  const hashOf = (token: string) => {
    let hash = hashes.get(token);
    if (hash === undefined) {
      hash = keyHash(token);
      hashes.set(token, hash);
    }
    return hash;
  };
  return {
    async find(token) {
      const hash = hashOf(token);
      const now = Date.now();
      const cached = cache.get(hash);
      if (cached && cached.until > now) {
        if (cached.principal === null) return null;
        // Every key change committed before this request (less the propagation bound) has reached
        // this process once the feed syncs; the entry is still there only if none was about this key.
        if ((await changes.sync()) && cache.get(hash) === cached) return cached.principal;
      }
      const seen = generation;
      const stored = await findApiKey(database.db, hash);
      const principal = stored ? keyPrincipal(stored) : null;
      if (seen === generation && (principal === null || changes.live)) {
        cache.set(hash, { principal, until: now + (principal ? KEY_CACHE_MS : UNKNOWN_KEY_CACHE_MS) });
      }
      return principal;
    },
    close: unsubscribe,
  };
}

/** What a stored key grants; a key whose stored grant no longer parses is refused (and logged). */
function keyPrincipal(key: StoredKey): Principal | null {
  if (!isRole(key.role)) return null;
  const own = ROLE_CLEARANCE[key.role];
  try {
    if (key.clearance !== null && !isSensitivity(key.clearance)) throw new Error(`unknown clearance '${key.clearance}'`);
    const clearance = key.clearance === null ? own : lowerOf(key.clearance, own);
    const scope = key.scope === null || key.scope === undefined ? undefined : parseRule(key.scope, 'scope');
    return { name: key.name, role: key.role, clearance, via: 'key', ...(scope ? { scope } : {}) };
  } catch (error) {
    logger.error({ key: key.name, err: error instanceof Error ? error.message : String(error) }, 'stored key grant does not parse; key refused');
    return null;
  }
}
