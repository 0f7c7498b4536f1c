import type { IncomingMessage } from 'node:http';
import type { Database } from '../store/database.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import { StrataError, isStrataError } from '../modeling/errors.ts';
import { anonymousPrincipal, type Principal, type Role } from '../services/authorization.ts';
import { createAuthThrottle, type AuthThrottle } from './auth-throttle.ts';
import { clientAddress } from './client-address.ts';
import { createKeyLookup } from './key-lookup.ts';
import { looksLikeJwt, type JwtVerifier } from './jwt-verifier.ts';
import { acceptsLocalToken, isLocalToken, LOCAL_CLI_PRINCIPAL } from './local-credential.ts';

const MAX_CREDENTIAL_LENGTH = 8_192;

export interface AuthenticatorOptions {
  readonly anonymousRole: Role | null;
  /** Verifies bearer JWTs; absent when STRATA_JWT_JWKS is unset (JWTs are then refused). */
  readonly verifyJwt?: JwtVerifier | undefined;
  /** Proxies in front that append to X-Forwarded-For (0: the socket's address counts). */
  readonly trustProxy?: number;
  readonly failureLimit?: number;
  readonly failureWindowMs?: number;
  /** The credential the CLI uses, from this machine, on the server owning a PGlite folder (api/local-credential.ts). */
  readonly localToken?: string | undefined;
  /** The view of the change feed key caches consult (api/request-changes.ts); default: the database's feed, synced as of each call. */
  readonly changes?: ChangeFeed;
}

export interface Authenticator {
  /**
   * The caller of a request: an API key's principal, a JWT's, or `anonymous`. Refused
   * credentials give a principal without a role that says why (the policy then answers
   * UNAUTHENTICATED); an address with too many recent failures gets RATE_LIMITED, thrown,
   * before any lookup.
   */
  authenticate(request: IncomingMessage): Promise<Principal>;
  /**
   * The caller behind a bare credential (an API key or a JWT) sent from `address`, as the SQL
   * endpoint receives it in place of a password: the same lookups and failure throttle as
   * `authenticate`; the CLI's local credential is never accepted this way.
   */
  authenticateCredential(credential: string, address: string): Promise<Principal>;
  /** Failed attempts per address, shared by GraphQL and the events route. */
  readonly throttle: AuthThrottle;
  close(): void;
}

/**
 * Turns `Authorization: Bearer <api key or JWT>` into a principal. Keys are looked up by
 * hash through a cache that key changes empty at once on every instance (api/key-lookup.ts);
 * JWTs are verified by signature and claims (api/jwt-verifier.ts). Without a header the
 * caller is `anonymous` with the configured anonymous role (none by default).
 */
export function createAuthenticator(database: Database, options: AuthenticatorOptions): Authenticator {
  const keys = createKeyLookup(database, options.changes);
  const windowMs = options.failureWindowMs ?? 60_000;
  const throttle = createAuthThrottle({ limit: options.failureLimit ?? 20, windowMs });

  const identify = async (header: string, request: IncomingMessage): Promise<Principal> => {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match) return anonymousPrincipal(null, 'Authorization must be "Bearer <api key or token>"');
    return identifyToken(match[1] as string, request);
  };

  const identifyToken = async (token: string, request: IncomingMessage | undefined): Promise<Principal> => {
    if (token.length > MAX_CREDENTIAL_LENGTH) return anonymousPrincipal(null, `credentials longer than ${MAX_CREDENTIAL_LENGTH} characters are refused`);
    if (isLocalToken(token))
      return request && acceptsLocalToken(options.localToken, token, request) ? LOCAL_CLI_PRINCIPAL : anonymousPrincipal(null, 'unknown local credential');
    if (!looksLikeJwt(token)) return (await keys.find(token)) ?? anonymousPrincipal(null, 'unknown or revoked API key');
    if (!options.verifyJwt) return anonymousPrincipal(null, 'bearer tokens (JWT) are not configured on this server; use an API key');
    try {
      return await options.verifyJwt(token);
    } catch (error) {
      if (isStrataError(error) && error.code === 'UNAUTHENTICATED') return anonymousPrincipal(null, error.message);
      throw error;
    }
  };

  return {
    throttle,
    async authenticate(request) {
      const header = request.headers.authorization;
      if (!header) return anonymousPrincipal(options.anonymousRole);
      const address = clientAddress(request, options.trustProxy ?? 0);
      const wait = throttle.retryAfter(address);
      if (wait > 0) {
        throw new StrataError('RATE_LIMITED', `too many failed authentications from your address; retry in ${wait} s`, { retryAfter: wait });
      }
      const principal = await identify(header, request);
      if (principal.problem) throttle.fail(address);
      return principal;
    },
    async authenticateCredential(credential, address) {
      const wait = throttle.retryAfter(address);
      if (wait > 0) {
        throw new StrataError('RATE_LIMITED', `too many failed authentications from your address; retry in ${wait} s`, { retryAfter: wait });
      }
      const principal = credential === '' ? anonymousPrincipal(null, 'an API key is required as the password') : await identifyToken(credential, undefined);
      if (principal.problem) throttle.fail(address);
      return principal;
    },
    close: () => keys.close(),
  };
}
