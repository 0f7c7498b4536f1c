/**
 * Problems a user can fix carry one of these codes; the API layer maps each to the
 * GraphQL `extensions.code` of the same name. Anything else is an internal error.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNKNOWN_MEMBER'
  | 'INVALID_QUERY'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'CONFLICT'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'TIMEOUT'
  | 'UNAVAILABLE';

/** A problem the caller can fix: the message says what to change. */
export class StrataError extends Error {
  override readonly name = 'StrataError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra fields for the client, e.g. `{ suggestions: [...] }` or `{ path: 'rule.and[1]' }`. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export function isStrataError(error: unknown): error is StrataError {
  return error instanceof StrataError;
}
