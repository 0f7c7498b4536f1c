import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerMetrics } from './server-metrics.ts';
import { noteErrorCodes } from './request-observation.ts';

/**
 * `GET /metrics`, the Prometheus exposition. Metrics carry no customer data but reveal
 * traffic, so the endpoint is guarded:
 * - with `token` (`STRATA_METRICS_TOKEN`) set, every scrape must send `Authorization: Bearer <token>`
 *   (401 with `WWW-Authenticate: Bearer` otherwise), from any address;
 * - without it, only scrapes from the loopback interface are answered, and none that came
 *   through a proxy (`X-Forwarded-For`, `Forwarded` or `X-Real-IP` present: a proxy on the
 *   same host would make every caller look local); others get 403.
 */
export function createMetricsRoute(metrics: ServerMetrics, options: { token: string | undefined }) {
  const expected = options.token === undefined ? undefined : digest(options.token);
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return refuse(request, response, 405, 'METHOD_NOT_ALLOWED', 'use GET');
    }
    if (expected) {
      const sent = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.authorization ?? '')?.[1];
      if (sent === undefined || !timingSafeEqual(digest(sent), expected)) {
        response.setHeader('www-authenticate', `Bearer realm="strata-metrics"${sent === undefined ? '' : ', error="invalid_token"'}`);
        return refuse(request, response, 401, 'UNAUTHENTICATED', 'metrics need Authorization: Bearer <STRATA_METRICS_TOKEN>');
      }
    } else if (!isLocalUnproxied(request)) {
      return refuse(request, response, 403, 'FORBIDDEN', 'metrics are served to loopback scrapes only; set STRATA_METRICS_TOKEN to scrape from elsewhere');
    }
    const text = await metrics.exposition();
    response.statusCode = 200;
    response.setHeader('content-type', metrics.contentType);
    response.setHeader('cache-control', 'no-store');
    response.end(request.method === 'HEAD' ? undefined : text);
  };
}

/** Whether the socket peer is a loopback address and no proxy header says the request came from elsewhere. */
export function isLocalUnproxied(request: IncomingMessage): boolean {
  const headers = request.headers;
  if (headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined || headers['x-real-ip'] !== undefined) return false;
  const address = request.socket.remoteAddress ?? '';
  return /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.test(address);
}

/** Fixed-length digests, so comparing them takes the same time whatever was sent. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function refuse(request: IncomingMessage, response: ServerResponse, status: number, code: string, message: string): void {
  noteErrorCodes(request, [code]);
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.end(JSON.stringify({ error: { code, message } }));
}
