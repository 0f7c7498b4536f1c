import type { IncomingMessage, ServerResponse } from 'node:http';
import { noteErrorCodes } from './request-observation.ts';

/** Origins allowed to call the API from a browser: `*` (any), or exact origins (`https://bi.example.com`). */
export type CorsOrigins = '*' | readonly string[];

/** Request headers a browser may send cross-origin (Apollo's CSRF prevention asks for one of the last two). */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-Request-Id', 'apollo-require-preflight', 'x-apollo-operation-name'];
const ALLOWED_METHODS = ['GET', 'POST', 'HEAD'];
/** Answer headers a browser script may read. */
const EXPOSED_HEADERS = 'X-Request-Id, Retry-After, WWW-Authenticate';
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Parses `STRATA_CORS_ORIGINS`: `*`, or comma-separated origins (scheme, host and port, no
 * path); empty means no cross-origin browser access. Throws on a value that is not an origin.
 *
 * ```ts
 * parseCorsOrigins('https://bi.example.com, http://localhost:5173'); // ['https://bi.example.com', 'http://localhost:5173']
 * ```
 */
export function parseCorsOrigins(text: string | undefined): CorsOrigins {
  const value = text?.trim() ?? '';
  if (value === '*') return '*';
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        throw new Error(`"${entry.slice(0, 80)}" is not an origin (expected scheme://host[:port])`);
      }
      if (!['http:', 'https:'].includes(url.protocol) || url.origin !== entry.replace(/\/$/, '')) {
        throw new Error(`"${entry.slice(0, 80)}" is not an origin (expected scheme://host[:port], without path)`);
      }
      return url.origin;
    });
}

/**
 * CORS for every route. For an allowed origin, answers carry `Access-Control-Allow-Origin`
 * and a preflight (`OPTIONS` with `Access-Control-Request-Method`) answers 204 with the
 * methods and headers allowed; a preflight from another origin answers 403 and other
 * answers carry no CORS header (the browser then withholds them). Returns true when it
 * answered the request itself (a preflight).
 */
export function createCors(origins: CorsOrigins): (request: IncomingMessage, response: ServerResponse) => boolean {
  const allowed = origins === '*' ? undefined : new Set(origins);
  const varies = allowed !== undefined && allowed.size > 0;
  return (request, response) => {
    if (varies) response.setHeader('vary', 'Origin');
    const origin = request.headers.origin;
    const preflight = request.method === 'OPTIONS' && origin !== undefined && request.headers['access-control-request-method'] !== undefined;
    const permitted = origin !== undefined && (allowed === undefined || allowed.has(origin));
    if (permitted) {
      response.setHeader('access-control-allow-origin', allowed === undefined ? '*' : origin);
      response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    }
    if (!preflight) return false;
    if (!permitted) {
      noteErrorCodes(request, ['FORBIDDEN']);
      response.statusCode = 403;
      response.setHeader('content-type', 'application/json; charset=utf-8');
      response.end(JSON.stringify({ error: { code: 'FORBIDDEN', message: 'this origin may not call the API from a browser (STRATA_CORS_ORIGINS)' } }));
      return true;
    }
    response.statusCode = 204;
    response.setHeader('access-control-allow-methods', ALLOWED_METHODS.join(', '));
    response.setHeader('access-control-allow-headers', CORS_ALLOWED_HEADERS.join(', '));
    response.setHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
    response.end();
    return true;
  };
}
