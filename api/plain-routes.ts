/**
 * The app's own plain HTTP routes beside GraphQL and the answers they share: the readiness
 * probe, the admission of event batches (who may send them, and how often), and the JSON
 * answers, error answers included, that every plain route gives. Which routes exist and in
 * what order is wired in `createApp` (api/app.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Database } from '../store/database.ts';
import { checkDatabase } from '../store/readiness.ts';
import { logger } from '../store/logger.ts';
import { authorize, type Principal } from '../services/authorization.ts';
import { BodyTooLargeError, MalformedBodyError } from './http-body.ts';
import { retryableAnswerFor } from './retryable-status.ts';
import { isConnectionFailure, UNAVAILABLE_MESSAGE } from './connection-failure.ts';
import type { HttpDrain } from './http-drain.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { callerKey, rateLimited } from './request-limits.ts';
import type { Route } from './http-front.ts';
import { noteErrorCodes, observationOf } from './request-observation.ts';

/** `POST /v1/events`: the caller must be allowed to track events, and within their events rate. */
export function admitEvents(principal: Principal, request: IncomingMessage, limiter: RateLimiter | undefined): void {
  authorize(principal, 'events.track');
  if (!limiter) return;
  const caller = callerKey(principal, request.socket.remoteAddress ?? 'unknown');
  const refused = limiter.admit(caller, [['events', 1]]);
  if (refused) throw rateLimited(refused, caller);
}

/** `/ready`: 200 when the database answers and is migrated; 503 otherwise and at once while draining. */
export function readinessRoute(database: Database, requests: HttpDrain): Route {
  return async (_request, response) => {
    // Draining: answer without asking the database, so load balancers stop sending at once.
    if (requests.draining) return sendJson(response, 503, { status: 'draining' });
    const readiness = await checkDatabase(database);
    if (requests.draining) return sendJson(response, 503, { status: 'draining', ...readiness });
    const ready = readiness.reachable && readiness.migrationsCurrent;
    // A replica behind or down sends reads back to the primary: reported, never "not ready".
    const replica = database.replica ? { replica: database.replica.current() } : {};
    sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...readiness, ...replica });
  };
}

export function handleRouteError(response: ServerResponse, error: unknown): void {
  if (error instanceof BodyTooLargeError) return refuse(response, 413, 'BAD_USER_INPUT', error.message);
  if (error instanceof MalformedBodyError) return refuse(response, 400, 'BAD_USER_INPUT', error.message);
  const requestId = observationOf(response.req)?.requestId;
  if (isConnectionFailure(error) && !response.headersSent) {
    logger.warn({ requestId, err: error instanceof Error ? error.message : String(error) }, 'database unreachable');
    const answer = retryableAnswerFor('UNAVAILABLE');
    response.setHeader('retry-after', String(answer.retryAfterSeconds));
    return refuse(response, answer.status, 'UNAVAILABLE', UNAVAILABLE_MESSAGE);
  }
  logger.error({ requestId, err: error instanceof Error ? error.message : String(error) }, 'request failed');
  if (!response.headersSent)
    refuse(response, 500, 'INTERNAL_SERVER_ERROR', `Internal server error. The failure was logged under request id ${requestId ?? 'unknown'}.`);
  else response.end();
}

/** An error answer of the plain HTTP routes, `{ error: { code, message } }`, with its code noted for the access log. */
export function refuse(response: ServerResponse, status: number, code: string, message: string): void {
  noteErrorCodes(response.req, [code]);
  sendJson(response, status, { error: { code, message } });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.end(JSON.stringify(body));
}
