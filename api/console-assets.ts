import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { projectFile } from '../store/project-files.ts';
import type { Route } from './http-front.ts';

/** Where the console's hashed scripts and styles are served from (Vite's `base` + `assets/`, console/vite.config.ts). */
export const CONSOLE_ASSET_PATH = '/console/assets/';

/** The console's build output: `npm run build` (scripts/build.mjs) writes it; it is not checked in. */
export const CONSOLE_BUILD_DIR = fileURLToPath(projectFile('dist/console/'));

/**
 * The console page's Content-Security-Policy: its scripts, styles and API calls from this
 * server only, no inline script or style sheet, no plugins, frames or form posts elsewhere.
 * (React and ECharts set element styles through the CSSOM, which `style-src` does not cover.)
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

interface Asset {
  readonly body: Buffer;
  /** Compressed on first use. */
  gzipped: Buffer | null;
  readonly etag: string;
  readonly type: string;
}

function asset(body: Buffer, type: string): Asset {
  return { body, gzipped: null, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, type };
}

/**
 * The web console's routes: `GET /` the page, and each built file under
 * `/console/assets/<hashed name>` (cached for a year: a new build has new names). The files
 * are read once, when the server starts. Without a build, `/` answers 404 saying how to build.
 */
export function consoleRoutes(dir: string = CONSOLE_BUILD_DIR): Record<string, Route> {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    return {
      '/': async (request, response) => {
        response.setHeader('cache-control', 'no-store');
        send(
          request,
          response,
          404,
          'text/plain; charset=utf-8',
          Buffer.from('The web console is not built: run `npm run build` (or `npm start`), then reload.\n'),
          false,
        );
      },
    };
  }
  const page = asset(readFileSync(index), 'text/html; charset=utf-8');
  const routes: Record<string, Route> = {
    '/': async (request, response) => {
      if (!allowRead(request, response)) return;
      response.setHeader('content-security-policy', CONSOLE_CSP);
      response.setHeader('cache-control', 'no-cache');
      response.setHeader('referrer-policy', 'no-referrer');
      response.setHeader('x-frame-options', 'DENY');
      serve(request, response, page, 'no-cache');
    },
  };
  const assets = join(dir, 'assets');
  for (const name of existsSync(assets) ? readdirSync(assets) : []) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (!type) continue;
    const file = asset(readFileSync(join(assets, name)), type);
    routes[`${CONSOLE_ASSET_PATH}${name}`] = async (request, response) => {
      if (!allowRead(request, response)) return;
      serve(request, response, file, 'public, max-age=31536000, immutable');
    };
  }
  return routes;
}

function allowRead(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  response.setHeader('allow', 'GET, HEAD');
  send(request, response, 405, 'text/plain; charset=utf-8', Buffer.from('use GET'), false);
  return false;
}

function serve(request: IncomingMessage, response: ServerResponse, file: Asset, cacheControl: string): void {
  response.setHeader('etag', file.etag);
  response.setHeader('cache-control', cacheControl);
  if (request.headers['if-none-match'] === file.etag) return send(request, response, 304, file.type, Buffer.alloc(0), false);
  const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  const vary = response.getHeader('vary');
  response.setHeader('vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
  if (gzip) file.gzipped ??= gzipSync(file.body);
  send(request, response, 200, file.type, gzip && file.gzipped ? file.gzipped : file.body, gzip);
}

function send(request: IncomingMessage, response: ServerResponse, status: number, type: string, body: Buffer, gzipped: boolean): void {
  response.statusCode = status;
  response.setHeader('content-type', type);
  response.setHeader('x-content-type-options', 'nosniff');
  if (gzipped) response.setHeader('content-encoding', 'gzip');
  response.setHeader('content-length', String(body.length));
  response.end(request.method === 'HEAD' ? undefined : body);
}
