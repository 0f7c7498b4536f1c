import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';

/**
 * What the server learns about one request while answering it, for its access-log line,
 * its metrics and its trace: never the query text, variables, credentials or customer ids.
 */
export interface RequestObservation {
  readonly requestId: string;
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
  readonly method: string;
  /** The route that answered (`/graphql`, `/v1/events`, ...), or `unmatched` (404). */
  route: string;
  /** The authenticated caller (key name, `jwt:<sub>`, `anonymous`); unset while no credential was checked. */
  key?: string;
  /** The GraphQL operation name the client chose (capped), if any. */
  operationName?: string;
  operationType?: string;
  /** Root fields of the GraphQL operation (schema names, so a bounded set). */
  rootFields?: readonly string[];
  /** The operation class (`profiles`, `analytics`, ...; `public`; `mixed`) or the route's own. */
  operationClass?: string;
  /** Error codes of the answer (`UNAUTHENTICATED`, `RATE_LIMITED`, ...). */
  readonly errorCodes: Set<string>;
  /** The request's server span (a no-op span unless tracing is on). */
  span?: Span;
  /** The GraphQL operation's span, a child of `span`. */
  operationSpan?: Span;
}

const observations = new WeakMap<IncomingMessage, RequestObservation>();
const scope = new AsyncLocalStorage<RequestObservation>();

/** Starts observing a request; `route` is filled in once it is known. */
export function beginObservation(request: IncomingMessage, requestId: string): RequestObservation {
  const observation: RequestObservation = {
    requestId,
    startedAt: performance.now(),
    method: request.method ?? 'GET',
    route: 'unmatched',
    errorCodes: new Set(),
  };
  observations.set(request, observation);
  return observation;
}

/** The observation of a request, if the server is observing it. */
export function observationOf(request: IncomingMessage | undefined): RequestObservation | undefined {
  return request ? observations.get(request) : undefined;
}

/** Runs `work` so that code deep in the call (error formatting, SQL) can find the request's observation. */
export function withObservation<T>(observation: RequestObservation, work: () => T): T {
  return scope.run(observation, work);
}

/** The observation of the request being answered, found through the async context. */
export function currentObservation(): RequestObservation | undefined {
  return scope.getStore();
}

/** The id of the request being answered, for log lines written far from the HTTP layer. */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}

/** Records error codes of an answer (shown in the access log and counted in the metrics). */
export function noteErrorCodes(request: IncomingMessage | undefined, codes: Iterable<string>): void {
  const observation = observationOf(request);
  if (!observation) return;
  for (const code of codes) observation.errorCodes.add(code);
}
