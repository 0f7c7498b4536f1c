import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ROLE_CLEARANCE, type Principal } from '../services/authorization.ts';

const PREFIX = 'strata_local_';

/**
 * The CLI acting through the server that owns its PGlite folder: an admin named `cli`, the
 * actor CLI commands record when they write directly.
 */
export const LOCAL_CLI_PRINCIPAL: Principal = { name: 'cli', role: 'admin', clearance: ROLE_CLEARANCE.admin, via: 'key' };

/**
 * A fresh local credential for one server process: 256 random bits, kept in memory and in
 * the data folder's lock file (mode 0600), which only someone who could open the database
 * files directly can read.
 */
export function createLocalToken(): string {
  return `${PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Whether a bearer credential is a local one (checked here, never looked up as an API key). */
export function isLocalToken(token: string): boolean {
  return token.startsWith(PREFIX);
}

/** Whether `token` is this server's local credential, presented from this machine (a loopback address). */
export function acceptsLocalToken(expected: string | undefined, token: string, request: IncomingMessage): boolean {
  if (!expected || token.length !== expected.length) return false;
  const address = request.socket.remoteAddress ?? '';
  const loopback = address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  return loopback && timingSafeEqual(Buffer.from(token), Buffer.from(expected));
}
