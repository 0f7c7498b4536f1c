import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Database } from '../store/database.ts';
import { checkDatabase } from '../store/readiness.ts';
import { logger } from '../store/logger.ts';
import { schema } from '../resolvers/schema.ts';
import type { RequestContext, Session } from '../resolvers/context.ts';
import type { ServerConfig } from './config.ts';
import { formatError } from './format-error.ts';
import { createGraphqlHandler } from './graphql-handler.ts';
import { BodyTooLargeError, MalformedBodyError } from './http-body.ts';
import { createEventsRoute } from './events-route.ts';
import { createEventCollector } from '../store/event-collector.ts';
import { wealthChannels, wealthEvents } from '../domains/wealth/events.ts';
import { createSemanticProvider } from '../services/semantic-provider.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { servingCatalog } from './serving-catalog.ts';
import { createAuthenticator } from './authenticate.ts';
import { createJwtVerifier } from './jwt-verifier.ts';
import { parseScope } from '../services/access-grants.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { createProfileLoader } from '../services/profiles.ts';
import { authorize, isAllowed } from '../services/authorization.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { wealthDomain } from '../domains/wealth/index.ts';

export interface App {
  readonly server: Server;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number): Promise<number>;
  close(): Promise<void>;
}

/** What `createApp` needs; event settings fall back to their defaults when omitted. */
export type AppConfig = Pick<ServerConfig, 'dev' | 'maxBodyBytes'> &
  Partial<Pick<ServerConfig, 'anonymousRole' | 'maxRows' | 'dbtProject' | 'dbtSchema' | 'eventMaxPastDays' | 'eventMaxFutureMinutes' | 'quarantineUndeclaredEvents'>> &
  Partial<Pick<ServerConfig, 'jwt' | 'trustProxy' | 'authFailureLimit' | 'authFailureWindowSeconds'>>;

type Route = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

/** Builds the HTTP application: GraphQL at /graphql, events at /v1/events, probes at /health and /ready. */
export async function createApp(database: Database, config: AppConfig): Promise<App> {
  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // No per-field cache hints: without the cache-control plugin Apollo leaves resolvers unwrapped.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled()],
  });

  const events = createEventCollector(database, wealthEvents, {
    channels: wealthChannels,
    maxPastDays: config.eventMaxPastDays,
    maxFutureMinutes: config.eventMaxFutureMinutes,
    quarantineUndeclared: config.quarantineUndeclaredEvents,
  });
  const catalog = servingCatalog(config);
  const domain = wealthDomain();
  const tags = createTagRuntime(database.db, tagSubject(indexCatalog(catalog), domain.tagSubject), domain.tags);
  const semanticLayers = createSemanticProvider(catalog, domain.tagSubject, tags, { maxRows: config.maxRows ?? 100_000 });
  const authenticator = createAuthenticator(database, {
    anonymousRole: config.anonymousRole ?? null,
    verifyJwt: config.jwt ? await createJwtVerifier(config.jwt, (input, path) => parseScope(tags, input, path)) : undefined,
    trustProxy: config.trustProxy ?? 0,
    failureLimit: config.authFailureLimit ?? 20,
    failureWindowMs: (config.authFailureWindowSeconds ?? 60) * 1000,
  });
  const authenticate = (request: IncomingMessage) => authenticator.authenticate(request);
  await apollo.start();
  const context = async (request: IncomingMessage): Promise<RequestContext> => {
    // Nothing touches the database until a guarded field runs: public fields answer without it.
    let session: Promise<Session> | undefined;
    return {
      database, events, tags, profiles: createProfileLoader(database, tags),
      session: () =>
        (session ??= Promise.all([authenticate(request), semanticLayers.current()]).then(([principal, semantic]) => ({
          principal, actor: principal.name, semantic, canSeeSql: config.dev && isAllowed(principal, 'metrics.sql'),
        }))),
    };
  };
  const routes: Record<string, Route> = {
    '/graphql': createGraphqlHandler(apollo, { maxBodyBytes: config.maxBodyBytes, context }),
    '/v1/events': createEventsRoute(events, {
      maxBodyBytes: config.maxBodyBytes,
      authorize: async (request) => authorize(await authenticate(request), 'events.track'),
    }),
    '/health': async (_request, response) => sendJson(response, 200, { status: 'ok' }),
    '/ready': async (_request, response) => {
      const readiness = await checkDatabase(database);
      const ready = readiness.reachable && readiness.migrationsCurrent;
      sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...readiness });
    },
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = routes[url.pathname];
    if (!route) return sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `no route ${url.pathname}` } });
    route(request, response, url).catch((error: unknown) => handleRouteError(response, error));
  });

  return {
    server,
    listen: (port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, () => resolve((server.address() as AddressInfo).port));
      }),
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
      authenticator.close();
    },
  };
}

function handleRouteError(response: ServerResponse, error: unknown): void {
  if (error instanceof BodyTooLargeError) return sendJson(response, 413, { error: { code: 'BAD_USER_INPUT', message: error.message } });
  if (error instanceof MalformedBodyError) return sendJson(response, 400, { error: { code: 'BAD_USER_INPUT', message: error.message } });
  logger.error({ err: error instanceof Error ? error.message : String(error) }, 'request failed');
  if (!response.headersSent) sendJson(response, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error.' } });
  else response.end();
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.end(JSON.stringify(body));
}
