import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';

/** The HTTP status and `WWW-Authenticate` header of an answer refused for its credentials. */
export interface AuthAnswer {
  readonly status: 401 | 403;
  readonly wwwAuthenticate?: string;
}

const ACCESS_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

/**
 * The HTTP status of a GraphQL answer that holds no data because of who asked, or undefined
 * (the status stays 200, or whatever else decided it). An answer "holds no data" when `data`
 * is absent or null, or every root field in it is null with an error at that field.
 * - Every error UNAUTHENTICATED or FORBIDDEN, at least one UNAUTHENTICATED: 401 with
 *   `WWW-Authenticate: Bearer realm="strata"`, plus `error="invalid_token"` when credentials
 *   were sent (unknown, revoked, expired or malformed), as RFC 6750 asks.
 * - Every error FORBIDDEN: 403.
 * - Any other error among them, or any data: no change (partial answers stay 200).
 *
 * ```ts
 * authAnswer(null, [{ message: 'no', extensions: { code: 'FORBIDDEN' } }], true); // { status: 403 }
 * ```
 */
export function authAnswer(
  data: Readonly<Record<string, unknown>> | null | undefined,
  errors: readonly GraphQLFormattedError[],
  credentialsSent: boolean,
): AuthAnswer | undefined {
  if (errors.length === 0) return undefined;
  const codes = new Set(errors.map((e) => e.extensions?.code));
  for (const code of codes) if (typeof code !== 'string' || !ACCESS_CODES.has(code)) return undefined;
  if (!holdsNoData(data, errors)) return undefined;
  if (!codes.has('UNAUTHENTICATED')) return { status: 403 };
  return { status: 401, wwwAuthenticate: `Bearer realm="strata"${credentialsSent ? ', error="invalid_token"' : ''}` };
}

function holdsNoData(data: Readonly<Record<string, unknown>> | null | undefined, errors: readonly GraphQLFormattedError[]): boolean {
  if (data === null || data === undefined) return true;
  const failed = new Set(errors.map((e) => e.path?.[0]).filter((key) => key !== undefined));
  return Object.entries(data).every(([key, value]) => value === null && failed.has(key));
}

/**
 * Sets HTTP 401 (with `WWW-Authenticate`) or 403 on GraphQL answers refused for their
 * credentials, as `authAnswer` decides: the GraphQL counterpart of the REST routes' 401 and
 * 403, next to the retryable statuses (retryable-status.ts).
 */
export function authStatusPlugin(): ApolloServerPlugin {
  // One listener for every request: it keeps no state of its own.
  const listener: GraphQLRequestListener<BaseContext> = {
    async willSendResponse({ request, response }) {
      if (response.body.kind !== 'single') return;
      const { data, errors } = response.body.singleResult;
      const answer = errors ? authAnswer(data, errors, request.http?.headers.get('authorization') !== undefined) : undefined;
      if (!answer) return;
      response.http.status = answer.status;
      if (answer.wwwAuthenticate) response.http.headers.set('www-authenticate', answer.wwwAuthenticate);
    },
  };
  return { requestDidStart: async () => listener };
}
