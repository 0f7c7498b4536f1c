import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Route } from './http-front.ts';
import { graphiqlPage, GRAPHIQL_START_SCRIPT } from './graphiql-page.ts';

/** Where GraphiQL's files are served from: this server, never a CDN. */
export const GRAPHIQL_ASSET_PATH = '/graphiql/assets/';

/** The files the page loads, by served name: npm packages' prebuilt bundles, and the script that starts GraphiQL. */
const ASSETS: Readonly<Record<string, { readonly from: readonly [pkg: string, file: string] | 'start'; readonly type: string }>> = {
  'react.production.min.js': { from: ['react', 'umd/react.production.min.js'], type: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { from: ['react-dom', 'umd/react-dom.production.min.js'], type: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { from: ['graphiql', 'graphiql.min.js'], type: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { from: ['graphiql', 'graphiql.min.css'], type: 'text/css; charset=utf-8' },
  'strata-graphiql.js': { from: 'start', type: 'text/javascript; charset=utf-8' },
};

/**
 * The page's Content-Security-Policy: scripts, styles and fetches from this server only;
 * no inline script runs (the examples travel as a JSON data block). GraphiQL sets inline
 * styles and its fonts and icons are data: URLs.
 */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  readonly body: Buffer;
  readonly gzipped: Buffer;
  readonly etag: string;
  readonly type: string;
}

const require = createRequire(import.meta.url);

/**
 * GraphiQL for browsers: `GET /graphql` asking for HTML (`Accept: text/html`) and carrying no
 * `query` parameter answers the page; every other request goes to `graphql`. The routes of
 * its assets are returned beside it. Files are read once, on first use, and sent gzipped
 * when the browser accepts it.
 */
export function graphiqlRoutes(graphql: Route): Record<string, Route> {
  const page = Buffer.from(graphiqlPage(GRAPHIQL_ASSET_PATH));
  const loaded = new Map<string, Promise<Asset>>();
  const routes: Record<string, Route> = {
    '/graphql': async (request, response, url) => {
      if (!wantsPage(request, url)) return graphql(request, response, url);
      response.setHeader('content-security-policy', GRAPHIQL_CSP);
      response.setHeader('cache-control', 'no-cache');
      send(request, response, 200, 'text/html; charset=utf-8', page);
    },
  };
  for (const [name, asset] of Object.entries(ASSETS)) {
    routes[`${GRAPHIQL_ASSET_PATH}${name}`] = async (request, response) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('allow', 'GET, HEAD');
        return send(request, response, 405, 'text/plain; charset=utf-8', Buffer.from('use GET'));
      }
      let file = loaded.get(name);
      if (!file) loaded.set(name, (file = loadAsset(asset.from, asset.type)));
      const { body, gzipped, etag, type } = await file;
      response.setHeader('etag', etag);
      response.setHeader('cache-control', 'public, max-age=86400');
      if (request.headers['if-none-match'] === etag) return send(request, response, 304, type, Buffer.alloc(0));
      const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
      if (gzip) response.setHeader('content-encoding', 'gzip');
      // Kept beside `Vary: Origin` when CORS set it.
      const vary = response.getHeader('vary');
      response.setHeader('vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
      send(request, response, 200, type, gzip ? gzipped : body);
    };
  }
  return routes;
}

/** A browser navigating to /graphql: GET, HTML accepted, no operation in the URL. */
function wantsPage(request: IncomingMessage, url: URL): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && !url.searchParams.has('query') && /\btext\/html\b/.test(request.headers.accept ?? '');
}

async function loadAsset(from: readonly [string, string] | 'start', type: string): Promise<Asset> {
  const body = from === 'start' ? Buffer.from(GRAPHIQL_START_SCRIPT) : await readFile(join(dirname(require.resolve(`${from[0]}/package.json`)), from[1]));
  return { body, gzipped: gzipSync(body), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, type };
}

function send(request: IncomingMessage, response: ServerResponse, status: number, type: string, body: Buffer): void {
  response.statusCode = status;
  response.setHeader('content-type', type);
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('content-length', String(body.length));
  response.end(request.method === 'HEAD' ? undefined : body);
}
