import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isStrataError, StrataError } from '../modeling/errors.ts';
import type { Rule } from '../modeling/conditions/rule.ts';
import { logger } from '../store/logger.ts';
import { isRole, ROLES, type Principal } from '../services/authorization.ts';
import { grantedClearance } from '../services/access-grants.ts';
import type { JwtConfig } from './config.ts';

/** Parses and checks a scope claim against the catalog (services/access-grants.ts `parseScope`). */
export type ScopeParser = (input: unknown, path: string) => Promise<Rule>;

/** Verifies a compact JWT and returns its principal; refusals are UNAUTHENTICATED, an unreachable key set UNAVAILABLE. */
export type JwtVerifier = (token: string) => Promise<Principal>;

/** Whether a bearer credential has the shape of a compact JWS (three base64url parts; the last empty for `alg: none`). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

const refuse = (message: string): never => {
  throw new StrataError('UNAUTHENTICATED', `bearer token refused: ${message}`);
};

/**
 * Builds the verifier of bearer JWTs: signature against the configured key set (a JWKS
 * file read once, or an https URL fetched and cached by jose), the pinned algorithms,
 * issuer, audience, and `exp` (required) and `nbf` with a small clock tolerance. The
 * principal is `jwt:<sub>` with the role of the role claim; the clearance claim may lower
 * the role's clearance and the scope claim carries a row-level scope.
 */
export async function createJwtVerifier(config: JwtConfig, parseScope: ScopeParser): Promise<JwtVerifier> {
  const remote = /^https?:\/\//i.test(config.jwks);
  const keys: JWTVerifyGetKey = remote
    ? createRemoteJWKSet(new URL(config.jwks), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 })
    : createLocalJWKSet(await readKeySet(config.jwks));
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: config.issuer,
        audience: [...config.audience],
        algorithms: [...config.algorithms],
        clockTolerance: config.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      return refusal(error, config, remote);
    }
    return principalOf(payload, config, parseScope);
  };
}

async function principalOf(payload: JWTPayload, config: JwtConfig, parseScope: ScopeParser): Promise<Principal> {
  const sub = payload.sub;
  if (typeof sub !== 'string' || !/^[^\p{Cc}]{1,200}$/u.test(sub)) return refuse(`its 'sub' claim must be 1-200 printable characters`);
  const role = payload[config.roleClaim];
  if (typeof role !== 'string' || !isRole(role)) return refuse(`its '${config.roleClaim}' claim must name a role: one of ${ROLES.join(', ')}`);
  try {
    const clearance = grantedClearance(role, payload[config.clearanceClaim], `its '${config.clearanceClaim}' claim`);
    const scope = await scopeOf(payload[config.scopeClaim], config.scopeClaim, parseScope);
    return { name: `jwt:${sub}`, role, clearance, via: 'jwt', ...(scope ? { scope } : {}) };
  } catch (error) {
    if (isStrataError(error) && error.code !== 'UNAVAILABLE') return refuse(error.message);
    throw error;
  }
}

/** A scope claim: a rule object, or the same as a JSON string (for issuers that only emit strings). */
async function scopeOf(claim: unknown, name: string, parseScope: ScopeParser): Promise<Rule | undefined> {
  if (claim === undefined || claim === null) return undefined;
  let input = claim;
  if (typeof claim === 'string') {
    try {
      input = JSON.parse(claim);
    } catch {
      return refuse(`its '${name}' claim is not a JSON rule`);
    }
  }
  return parseScope(input, `its '${name}' claim`);
}

/** What a client is told about a refused token (never the key set or the server's state). */
function refusal(error: unknown, config: JwtConfig, remote: boolean): never {
  const code = error instanceof errors.JOSEError ? error.code : undefined;
  if (remote && (code === undefined || code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC' || code === 'ERR_JWKS_INVALID')) {
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'JWKS fetch failed');
    throw new StrataError('UNAVAILABLE', "the token issuer's keys cannot be fetched right now; retry later", { retryAfter: 30 });
  }
  if (error instanceof errors.JWTExpired) return refuse('it has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return refuse(error.reason === 'missing' ? `its '${error.claim}' claim is missing` : `its '${error.claim}' claim is not accepted here`);
  }
  switch (code) {
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return refuse(`its algorithm is not accepted; accepted: ${config.algorithms.join(', ')}`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return refuse('its signature does not verify');
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return refuse('no key of the issuer matches its header (kid, alg)');
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return refuse('several keys of the issuer match; the token must name its key (kid)');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return refuse('it is not a well-formed signed JWT');
    default:
      return refuse('it could not be verified');
  }
}

/** Reads a JWKS file of public keys; a private or symmetric key in it is a configuration error. */
async function readKeySet(path: string): Promise<JSONWebKeySet> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`STRATA_JWT_JWKS: cannot read a JSON key set from '${path}': ${error instanceof Error ? error.message : String(error)}`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`STRATA_JWT_JWKS: '${path}' must hold { "keys": [ ... ] } with at least one key`);
  keys.forEach((key: Record<string, unknown>, i) => {
    if (!['RSA', 'EC', 'OKP'].includes(String(key?.kty)))
      throw new Error(`STRATA_JWT_JWKS: key ${i} has kty '${String(key?.kty)}'; only public RSA, EC or OKP keys are accepted`);
    if ('d' in key) throw new Error(`STRATA_JWT_JWKS: key ${i} is a private key; publish only the public part`);
  });
  return parsed as JSONWebKeySet;
}
