import type { IncomingMessage } from 'node:http';
import type { Database } from '../store/database.ts';
import { findApiKey } from '../store/api-keys.ts';
import { anonymousPrincipal, isRole, ROLE_CLEARANCE, type Principal, type Role } from '../services/authorization.ts';

const CACHE_MS = 10_000;

/**
 * Turns `Authorization: Bearer <api key>` into a principal. Keys are looked up by hash and
 * cached for 10 s (a revocation takes effect within that). Without a header the caller is
 * `anonymous` with the configured anonymous role (none by default); refused credentials
 * make a principal without a role that says why, so the request fails UNAUTHENTICATED.
 */
export function createAuthenticator(database: Database, anonymousRole: Role | null) {
  const cache = new Map<string, { principal: Principal | null; until: number }>();
  return async (request: IncomingMessage): Promise<Principal> => {
    const header = request.headers.authorization;
    if (!header) return anonymousPrincipal(anonymousRole);
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return anonymousPrincipal(null, 'Authorization must be "Bearer <api key or token>"');
    const token = match[1] as string;
    const now = Date.now();
    let entry = cache.get(token);
    if (!entry || entry.until < now) {
      const key = await findApiKey(database.db, token);
      const principal: Principal | null = key && isRole(key.role) ? { name: key.name, role: key.role, clearance: ROLE_CLEARANCE[key.role], via: 'key' } : null;
      entry = { principal, until: now + CACHE_MS };
      if (cache.size > 10_000) cache.clear();
      cache.set(token, entry);
    }
    return entry.principal ?? anonymousPrincipal(null, 'unknown or revoked API key');
  };
}
