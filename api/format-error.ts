import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isStrataError, type StrataError } from '../modeling/errors.ts';
import { logger } from '../store/logger.ts';
import { isConnectionFailure, UNAVAILABLE_MESSAGE } from './connection-failure.ts';
import { tokenLimitError } from './graphql-limits.ts';
import { currentRequestId } from './request-observation.ts';

/** Codes Apollo and graphql-js raise for requests the client can fix; their messages are safe. */
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * The one place where errors become what clients see. Domain errors keep their code and
 * message; a lost or refused database connection becomes UNAVAILABLE (the answer then
 * carries HTTP 503 and Retry-After, see retryable-status.ts); GraphQL's own request errors
 * pass through; everything else is logged (with the request id) and replaced by a generic
 * message carrying that id, so no SQL, table name or stack trace leaves the server.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const domain = domainError(original);
  if (domain) {
    return {
      message: domain.message,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { ...domain.details, code: domain.code },
    };
  }
  const tokens = tokenLimitError(formatted);
  if (tokens) return tokens;
  if (isStatementTimeout(original)) {
    return {
      message: 'The query took longer than the server allows; narrow the time range, filter, or use a coarser grain.',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'TIMEOUT' },
    };
  }
  if (isConnectionFailure(error)) {
    logger.warn(
      { requestId: currentRequestId(), err: original instanceof Error ? original.message : String(original), path: formatted.path },
      'database unreachable',
    );
    return {
      message: UNAVAILABLE_MESSAGE,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'UNAVAILABLE' },
    };
  }
  const code = formatted.extensions?.code;
  const isResolverError = formatted.path !== undefined;
  if (typeof code === 'string' && CLIENT_CODES.has(code) && !isResolverError) {
    const { stacktrace: _dropped, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  const requestId = currentRequestId();
  logger.error(
    { requestId, err: original instanceof Error ? { message: original.message, stack: original.stack } : String(original), path: formatted.path },
    'internal error',
  );
  return {
    message: 'Internal server error. The failure was logged; retry later or contact the operators, quoting the request id.',
    ...(formatted.path ? { path: formatted.path } : {}),
    // The id (also in the X-Request-Id header) finds the logged failure.
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
  };
}

/**
 * The domain error behind an error: thrown by a resolver (unwrapped already), or carried as
 * the original error of a request-level GraphQL error (a limit refused by a validation rule
 * or by a plugin before execution).
 */
function domainError(error: unknown): StrataError | undefined {
  if (isStrataError(error)) return error;
  if (error instanceof GraphQLError && isStrataError(error.originalError)) return error.originalError;
  return undefined;
}

/** PostgreSQL's `query_canceled` (SQLSTATE 57014): the statement timeout cut the query off. */
function isStatementTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '57014';
}
