import { isStrataError } from '../modeling/errors.ts';

/** Socket errors of a database connection that could not be opened or was lost. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * SQLSTATEs of a server that refused or dropped the session: `admin_shutdown`
 * (pg_terminate_backend, a fast shutdown), `crash_shutdown`, `cannot_connect_now` (starting
 * up, shutting down) and `too_many_connections`. Class 08 (`connection_exception`) is matched
 * as a whole.
 */
const SESSION_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Messages node-postgres and pg-pool raise without a code when a connection fails. */
const MESSAGES = [
  /^Connection terminated\b/, // 'Connection terminated', '... unexpectedly', '... due to connection timeout'
  /^timeout exceeded when trying to connect$/, // pg-pool: no connection became free in time
  /^timeout expired$/, // pg.Client: connectionTimeoutMillis passed while connecting
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
];

/**
 * Whether `error` says the database cannot be reached right now (so the request may succeed
 * when retried), as opposed to a problem with the request or the data. Follows `cause` and
 * an AggregateError's `errors` (Node reports a refused connection to every address of a host
 * that way); a GraphQL error is judged by the error it wraps, a domain error is never one.
 *
 * ```ts
 * isConnectionFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })); // true
 * ```
 */
export function isConnectionFailure(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5 || isStrataError(error)) return false;
  if ('originalError' in error) return isConnectionFailure(error.originalError, depth + 1);
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SESSION_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (typeof message === 'string' && MESSAGES.some((pattern) => pattern.test(message))) return true;
  if (Array.isArray(errors) && errors.some((inner) => isConnectionFailure(inner, depth + 1))) return true;
  return isConnectionFailure(cause, depth + 1);
}

/** What a client is told while the database is unreachable. */
export const UNAVAILABLE_MESSAGE = 'The database is unreachable at the moment and the request was not completed; retry after the seconds given in Retry-After.';
