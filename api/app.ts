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
import { createPersonalDataLog } from '../store/personal-data-log.ts';
import { DEFAULT_MAX_DRIFT } from '../services/materialization-drift.ts';
import { authorize, isAllowed } from '../services/authorization.ts';
import { DEFAULT_PRIVACY_K, queryAccess, viewerOf } from '../services/access.ts';
import { retryableAnswerFor, retryableStatusPlugin } from './retryable-status.ts';
import { introspectionGuardPlugin } from './introspection-guard.ts';
import { isConnectionFailure, UNAVAILABLE_MESSAGE } from './connection-failure.ts';
import { trackRequests, type DrainReport, type HttpDrain } from './http-drain.ts';
import { closeIdleConnectionsSafely } from './keep-alive.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { wealthDomain } from '../domains/wealth/index.ts';
import { DEFAULT_GRAPHQL_LIMITS, graphqlProtection } from './graphql-limits.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { callerKey, rateLimited, requestLimitsPlugin } from './request-limits.ts';
import { createAnalyticsLane, DEFAULT_ANALYTICS_CAPACITY, type AnalyticsLane } from '../services/analytics-lane.ts';
import type { Principal } from '../services/authorization.ts';

export interface App {
  readonly server: Server;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number): Promise<number>;
  /**
   * Stops serving gracefully: `/ready` answers 503 at once, no new connection is accepted,
   * idle keep-alive connections close, requests in flight get up to `graceMs` (default 10 s)
   * to finish with `Connection: close`, the rest are cut off, then Apollo stops. The
   * database stays open (its owner closes it).
   */
  close(options?: { graceMs?: number }): Promise<DrainReport>;
  /** The capped lane of expensive reads (metric queries, previews, insight, audience counts, materialization). */
  readonly analytics: AnalyticsLane;
}

const DEFAULT_GRACE_MS = 10_000;

/**
 * What `createApp` needs; settings fall back to their defaults when omitted, except
 * `rateLimits`: omitted, no per-key rate limit applies (the server's configuration, read by
 * `loadConfig`, always has them).
 */
export type AppConfig = Pick<ServerConfig, 'dev' | 'maxBodyBytes'> &
  Partial<Pick<ServerConfig, 'anonymousRole' | 'privacyK' | 'introspection' | 'maxRows' | 'dbtProject' | 'dbtSchema' | 'eventMaxPastDays' | 'eventMaxFutureMinutes' | 'quarantineUndeclaredEvents' | 'materializeMaxDrift'>> &
  Partial<Pick<ServerConfig, 'piiHmacKey' | 'piiEncryptionKeys' | 'jwt' | 'trustProxy' | 'authFailureLimit' | 'authFailureWindowSeconds' | 'graphqlLimits' | 'rateLimits' | 'analyticsCapacity'>> & {
    /** The CLI's credential on the server owning a PGlite folder (api/local-credential.ts); unset accepts none. */
    readonly localToken?: string | undefined;
  };

type Route = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

/** Builds the HTTP application: GraphQL at /graphql, events at /v1/events, probes at /health and /ready. */
export async function createApp(database: Database, config: AppConfig): Promise<App> {
  const introspection = config.introspection ?? true;
  const protection = graphqlProtection(config.graphqlLimits ?? DEFAULT_GRAPHQL_LIMITS, { introspection });
  const limiter = config.rateLimits ? createRateLimiter(config.rateLimits) : undefined;
  const analytics = createAnalyticsLane(database.analytics, config.analyticsCapacity ?? DEFAULT_ANALYTICS_CAPACITY);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection,
    validationRules: protection.validationRules,
    parseOptions: protection.parseOptions,
    // The process owner drains and stops on signals (api/shutdown.ts), not Apollo on its own.
    stopOnTerminationSignals: false,
    // No per-field cache hints: without the cache-control plugin Apollo leaves resolvers unwrapped.
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      retryableStatusPlugin(),
      introspectionGuardPlugin(),
      ...protection.plugins,
      requestLimitsPlugin(limiter),
    ],
  });

  const events = createEventCollector(database, wealthEvents, {
    channels: wealthChannels,
    maxPastDays: config.eventMaxPastDays,
    maxFutureMinutes: config.eventMaxFutureMinutes,
    quarantineUndeclared: config.quarantineUndeclaredEvents,
    personalData: { pseudonymKey: config.piiHmacKey, encryption: config.piiEncryptionKeys },
  });
  const catalog = servingCatalog(config);
  const domain = wealthDomain();
  const tags = createTagRuntime(database.db, tagSubject(indexCatalog(catalog), domain.tagSubject), domain.tags, analytics);
  const semanticLayers = createSemanticProvider(catalog, domain.tagSubject, tags, { maxRows: config.maxRows ?? 100_000 });
  const privacyK = config.privacyK ?? DEFAULT_PRIVACY_K;
  const personalData = createPersonalDataLog(database.db);
  const authenticator = createAuthenticator(database, {
    anonymousRole: config.anonymousRole ?? null,
    verifyJwt: config.jwt ? await createJwtVerifier(config.jwt, (input, path) => parseScope(tags, input, path)) : undefined,
    trustProxy: config.trustProxy ?? 0,
    failureLimit: config.authFailureLimit ?? 20,
    failureWindowMs: (config.authFailureWindowSeconds ?? 60) * 1000,
    localToken: config.localToken,
  });
  const authenticate = (request: IncomingMessage) => authenticator.authenticate(request);
  await apollo.start();
  const context = async (request: IncomingMessage): Promise<RequestContext> => {
    // Nothing touches the database until a guarded field runs: public fields answer without it.
    let session: Promise<Session> | undefined;
    return {
      database, events, tags, personalData, personalKeys: config.piiEncryptionKeys, analytics, clientAddress: request.socket.remoteAddress ?? 'unknown',
      materializeMaxDrift: config.materializeMaxDrift ?? DEFAULT_MAX_DRIFT,
      session: () =>
        (session ??= Promise.all([authenticate(request), semanticLayers.current()]).then(([principal, semantic]) => {
          const viewer = viewerOf(principal, privacyK);
          return {
            principal, actor: principal.name, semantic, canSeeSql: config.dev && isAllowed(principal, 'metrics.sql'),
            access: queryAccess(principal, domain.tagSubject, privacyK), viewer,
            profiles: createProfileLoader(database, tags, viewer, personalData),
          };
        })),
    };
  };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = routes[url.pathname];
    if (!route) return sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `no route ${url.pathname}` } });
    route(request, response, url).catch((error: unknown) => handleRouteError(response, error));
  });
  closeIdleConnectionsSafely(server);
  const requests = trackRequests(server);
  const routes: Record<string, Route> = {
    '/graphql': createGraphqlHandler(apollo, { maxBodyBytes: config.maxBodyBytes, context }),
    '/v1/events': createEventsRoute(events, {
      maxBodyBytes: config.maxBodyBytes,
      authorize: async (request) => admitEvents(await authenticate(request), request, limiter),
    }),
    '/health': async (_request, response) => sendJson(response, 200, { status: 'ok' }),
    '/ready': readinessRoute(database, requests),
  };

  return {
    server,
    analytics,
    listen: (port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, () => resolve((server.address() as AddressInfo).port));
      }),
    async close(options = {}) {
      const report = await requests.drain(options.graceMs ?? DEFAULT_GRACE_MS);
      await apollo.stop();
      await personalData.close();
      authenticator.close();
      return report;
    },
  };
}

/** `POST /v1/events`: the caller must be allowed to track events, and within their events rate. */
function admitEvents(principal: Principal, request: IncomingMessage, limiter: RateLimiter | undefined): void {
  authorize(principal, 'events.track');
  if (!limiter) return;
  const caller = callerKey(principal, request.socket.remoteAddress ?? 'unknown');
  const refused = limiter.admit(caller, [['events', 1]]);
  if (refused) throw rateLimited(refused, caller);
}

/** `/ready`: 200 when the database answers and is migrated; 503 otherwise and at once while draining. */
function readinessRoute(database: Database, requests: HttpDrain): Route {
  return async (_request, response) => {
    // Draining: answer without asking the database, so load balancers stop sending at once.
    if (requests.draining) return sendJson(response, 503, { status: 'draining' });
    const readiness = await checkDatabase(database);
    if (requests.draining) return sendJson(response, 503, { status: 'draining', ...readiness });
    const ready = readiness.reachable && readiness.migrationsCurrent;
    sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...readiness });
  };
}

function handleRouteError(response: ServerResponse, error: unknown): void {
  if (error instanceof BodyTooLargeError) return sendJson(response, 413, { error: { code: 'BAD_USER_INPUT', message: error.message } });
  if (error instanceof MalformedBodyError) return sendJson(response, 400, { error: { code: 'BAD_USER_INPUT', message: error.message } });
  if (isConnectionFailure(error) && !response.headersSent) {
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'database unreachable');
    const answer = retryableAnswerFor('UNAVAILABLE');
    response.setHeader('retry-after', String(answer.retryAfterSeconds));
    return sendJson(response, answer.status, { error: { code: 'UNAVAILABLE', message: UNAVAILABLE_MESSAGE } });
  }
  logger.error({ err: error instanceof Error ? error.message : String(error) }, 'request failed');
  if (!response.headersSent) sendJson(response, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error.' } });
  else response.end();
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.end(JSON.stringify(body));
}
