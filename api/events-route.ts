import type { IncomingMessage, ServerResponse } from 'node:http';
import { isStrataError } from '../modeling/errors.ts';
import type { EventCollector } from '../store/event-collector.ts';
import { readJsonBody } from './http-body.ts';
import { retryableAnswerFor } from './retryable-status.ts';
import { noteErrorCodes } from './request-observation.ts';

/**
 * `POST /v1/events`: a JSON array of events, for SDKs. Answers 200 with
 * `{ accepted, duplicates, quarantined, rejected: [{ index, code, message }] }` once the batch
 * is committed; 400 for a body that is not a JSON array, 413 for too many bytes or events.
 * `authorize`, when given, runs first and throws a StrataError (`UNAUTHENTICATED` -> 401,
 * `FORBIDDEN` -> 403, `RATE_LIMITED` -> 429 and `UNAVAILABLE` -> 503, both with Retry-After)
 * to refuse the caller; a 401 carries `WWW-Authenticate: Bearer`.
 */
export function createEventsRoute(collector: EventCollector, options: { maxBodyBytes: number; authorize?: (request: IncomingMessage) => Promise<void> }) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      return reply(response, 405, failure('METHOD_NOT_ALLOWED', 'use POST with a JSON array of events'));
    }
    try {
      await options.authorize?.(request);
    } catch (error) {
      const status = isStrataError(error) ? ACCESS_STATUS[error.code] : undefined;
      if (status === undefined || !isStrataError(error)) throw error;
      if (error.code === 'RATE_LIMITED' || error.code === 'UNAVAILABLE') {
        const answer = retryableAnswerFor(error.code, error.details.retryAfter as number | undefined);
        response.setHeader('retry-after', String(answer.retryAfterSeconds));
        return reply(response, answer.status, failure(error.code, error.message));
      }
      // RFC 6750: a refused bearer credential says so; a missing one only names the scheme.
      if (status === 401)
        response.setHeader('www-authenticate', `Bearer realm="strata"${request.headers.authorization === undefined ? '' : ', error="invalid_token"'}`);
      return reply(response, status, failure(error.code, error.message));
    }
    const body = await readJsonBody(request, options.maxBodyBytes);
    if (!Array.isArray(body)) return reply(response, 400, failure('BAD_USER_INPUT', 'the body must be a JSON array of events'));
    if (body.length > collector.maxBatchSize) {
      const message = `a batch holds at most ${collector.maxBatchSize} events; got ${body.length}`;
      return reply(response, 413, failure('BAD_USER_INPUT', message));
    }
    try {
      return reply(response, 200, await collector.track(body));
    } catch (error) {
      if (isStrataError(error) && error.code === 'BAD_USER_INPUT') return reply(response, 400, failure(error.code, error.message));
      throw error;
    }
  };
}

const ACCESS_STATUS: Partial<Record<string, number>> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429, UNAVAILABLE: 503 };

function failure(code: string, message: string) {
  return { error: { code, message } };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const code = (body as { error?: { code?: unknown } }).error?.code;
  if (typeof code === 'string') noteErrorCodes(response.req, [code]);
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.end(JSON.stringify(body));
}
