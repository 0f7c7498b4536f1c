/** Failures as PostgreSQL's ErrorResponse: SQLSTATE, message and hint; internal failures logged and answered without details. */
import type { Logger } from 'pino';
import { isStrataError, type ErrorCode } from '../../modeling/errors.ts';
import { SqlInterfaceError } from '../../modeling/sql-interface/sql-error.ts';
import type { SessionContext } from './session-context.ts';
import * as wire from './wire.ts';

/** The SQLSTATE of each domain error code. */
const SQLSTATE: Readonly<Record<ErrorCode, string>> = {
  BAD_USER_INPUT: '22023',
  UNKNOWN_MEMBER: '42703',
  INVALID_QUERY: '0A000',
  FORBIDDEN: '42501',
  UNAUTHENTICATED: '28000',
  CONFLICT: '40001',
  NOT_FOUND: '42704',
  RATE_LIMITED: '53400',
  TIMEOUT: '57014',
  UNAVAILABLE: '57P03',
};

/** Sends an error as an ErrorResponse of the session. */
export function sendError(ctx: SessionContext, error: unknown): void {
  ctx.connection.send(wire.errorResponse({ severity: 'ERROR', ...errorFields(error, ctx.services.logger, ctx.connection.id) }));
}

/** An error as PostgreSQL's ErrorResponse fields; internal failures are logged and answered without details. */
function errorFields(error: unknown, logger: Logger, session: number): { code: string; message: string; hint?: string; position?: number } {
  if (error instanceof SqlInterfaceError)
    return {
      code: error.sqlstate,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error.position ? { position: error.position } : {}),
    };
  if (isStrataError(error)) {
    const suggestions = error.details.suggestions;
    const hint = Array.isArray(suggestions) && suggestions.length > 0 ? `Did you mean ${suggestions.join(' or ')}?` : undefined;
    return { code: SQLSTATE[error.code], message: error.message, ...(hint ? { hint } : {}) };
  }
  logger.error({ sqlSession: session, err: error instanceof Error ? error.message : String(error) }, 'sql statement failed');
  return { code: 'XX000', message: `internal error; it was logged under SQL session ${session}` };
}
