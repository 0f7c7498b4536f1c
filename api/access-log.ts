import type { Logger } from 'pino';
import type { RequestObservation } from './request-observation.ts';

/** One access-log line: what was asked, by whom, how it ended and how long it took. */
export interface AccessLogEntry {
  readonly requestId: string;
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly durationMs: number;
  /** The caller: key name, `jwt:<sub>`, `anonymous`; `unchecked` when credentials were sent but nothing needed them. */
  readonly key: string;
  readonly operation?: string;
  readonly operationType?: string;
  readonly fields?: readonly string[];
  readonly operationClass?: string;
  readonly errors?: readonly string[];
  /** Set when the request was traced (OpenTelemetry), to find its trace. */
  readonly traceId?: string;
  /** The answer was cut off (client gone, or the server stopped) before it was complete. */
  readonly aborted?: true;
}

/**
 * The access-log line of a finished request. Nothing a client sends is copied except the
 * request id (validated) and the operation name (capped when recorded); root fields are
 * schema names. Query text, variables, credentials and customer ids never appear.
 */
export function accessLogEntry(observation: RequestObservation, status: number, options: { credentialsSent: boolean; aborted: boolean }): AccessLogEntry {
  const traceId = observation.span?.isRecording() ? observation.span.spanContext().traceId : undefined;
  return {
    requestId: observation.requestId,
    method: observation.method,
    route: observation.route,
    status,
    durationMs: Math.round((performance.now() - observation.startedAt) * 100) / 100,
    key: observation.key ?? (options.credentialsSent ? 'unchecked' : 'anonymous'),
    ...(observation.operationName !== undefined ? { operation: observation.operationName } : {}),
    ...(observation.operationType !== undefined ? { operationType: observation.operationType } : {}),
    ...(observation.rootFields ? { fields: observation.rootFields } : {}),
    ...(observation.operationClass !== undefined ? { operationClass: observation.operationClass } : {}),
    ...(observation.errorCodes.size > 0 ? { errors: [...observation.errorCodes] } : {}),
    ...(traceId ? { traceId } : {}),
    ...(options.aborted ? { aborted: true as const } : {}),
  };
}

/** Writes the access-log line at `info` (`msg: "request"`); probes (`/health`, `/ready`, `/metrics`) at `debug`. */
export function writeAccessLog(logger: Logger, entry: AccessLogEntry): void {
  if (PROBE_ROUTES.has(entry.route) && entry.status < 500) logger.debug(entry, 'request');
  else logger.info(entry, 'request');
}

const PROBE_ROUTES = new Set(['/health', '/ready', '/metrics']);
