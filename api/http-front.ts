import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { accessLogEntry, writeAccessLog } from './access-log.ts';
import { requestIdOf } from './request-id.ts';
import { beginObservation, withObservation, type RequestObservation } from './request-observation.ts';
import type { ServerMetrics } from './server-metrics.ts';
import { tracingRegistered } from './tracing.ts';

/** One HTTP route: answers the request (errors it throws are answered by `onError`). */
export type Route = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

export interface FrontOptions {
  /** Routes by exact path. */
  readonly routes: Readonly<Record<string, Route>>;
  /** Adds CORS headers; true when it answered the request itself (a preflight). */
  readonly cors: (request: IncomingMessage, response: ServerResponse) => boolean;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  /** Answers an error a route threw. */
  readonly onError: (response: ServerResponse, error: unknown) => void;
  /** Answers a request without a route (404) or with a path that cannot be read (400). */
  readonly refuse: (response: ServerResponse, status: number, code: string, message: string) => void;
}

/**
 * What every request goes through before and after its route: a request id (the client's
 * `X-Request-Id` if acceptable, else a new one) returned in `X-Request-Id` on every answer,
 * CORS, routing, a server span (continuing the caller's `traceparent` when tracing is on),
 * and once the answer is sent, the access-log line and the request metrics.
 */
export function createFrontHandler(options: FrontOptions): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const requestId = requestIdOf(request.headers['x-request-id']);
    response.setHeader('x-request-id', requestId);
    const observation = beginObservation(request, requestId);
    response.once('close', () => finish(options, observation, request, response));
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
    } catch {
      return options.refuse(response, 400, 'BAD_USER_INPUT', 'the request path cannot be read');
    }
    const route = Object.hasOwn(options.routes, url.pathname) ? options.routes[url.pathname] : undefined;
    if (route) observation.route = url.pathname;
    if (options.cors(request, response)) return;
    const serve = (span: Span | undefined) => {
      if (span) observation.span = span;
      const answered = route
        ? route(request, response, url)
        : Promise.resolve(options.refuse(response, 404, 'NOT_FOUND', `no route ${url.pathname.slice(0, 200)}`));
      answered.catch((error: unknown) => options.onError(response, error));
    };
    // Tracing off: no span at all (the API's would be a non-recording no-op, made on every request).
    if (!tracingRegistered()) return withObservation(observation, () => serve(undefined));
    const parent = propagation.extract(context.active(), request.headers);
    const attributes = { 'http.request.method': observation.method, 'http.route': observation.route, 'strata.request_id': requestId };
    withObservation(observation, () =>
      trace.getTracer('strata').startActiveSpan(`${observation.method} ${observation.route}`, { kind: SpanKind.SERVER, attributes }, parent, serve),
    );
  };
}

/** Once the answer is sent (or the connection is gone): end the span, write the access log, count the request. */
function finish(options: FrontOptions, observation: RequestObservation, request: IncomingMessage, response: ServerResponse): void {
  const status = response.statusCode;
  const aborted = !response.writableFinished;
  // The entry first: it reads the trace id while the span still records.
  const entry = accessLogEntry(observation, status, { credentialsSent: request.headers.authorization !== undefined, aborted });
  const span = observation.span;
  if (span) {
    span.setAttribute('http.response.status_code', status);
    if (status >= 500 || aborted) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
  writeAccessLog(options.logger, entry);
  options.metrics.observeRequest(observation, status);
}
