import { decisionExperimentSource } from '../services/decision-experiments.ts';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Database } from '../store/database.ts';
import { logger } from '../store/logger.ts';
import { createMonitorScheduler } from '../services/monitors.ts';
import { schema } from '../resolvers/schema.ts';
import type { RequestContext, Session } from '../resolvers/context.ts';
import type { AppConfig } from './app-config.ts';
import { formatError } from './format-error.ts';
import { createGraphqlHandler } from './graphql-handler.ts';
import { createGraphqlFastPath, type GraphqlFastPath } from './graphql-fast-path.ts';
import { createEventsRoute } from './events-route.ts';
import { createEventCollector } from '../store/event-collector.ts';
import { createSemanticProvider } from '../services/semantic-provider.ts';
import { chooseSqlDialect } from '../store/sql-dialect.ts';
import { startRollupWorker } from '../services/rollups.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { servingCatalog } from './serving-catalog.ts';
import { createAuthenticator } from './authenticate.ts';
import { createJwtVerifier } from './jwt-verifier.ts';
import { parseScope } from '../services/access-grants.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { createProfileLoader } from '../services/profiles.ts';
import { createPersonalDataLog } from '../store/personal-data-log.ts';
import { DEFAULT_MAX_DRIFT } from '../services/materialization-drift.ts';
import { DEFAULT_MATERIALIZE_STATEMENT_TIMEOUT_MS } from '../services/profile-materialization.ts';
import { isAllowed } from '../services/authorization.ts';
import { DEFAULT_PRIVACY_K, queryAccess, viewerOf } from '../services/access.ts';
import { retryableStatusPlugin } from './retryable-status.ts';
import { introspectionGuardPlugin } from './introspection-guard.ts';
import { trackRequests, type DrainReport } from './http-drain.ts';
import { closeIdleConnectionsSafely } from './keep-alive.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';
import { DEFAULT_GRAPHQL_LIMITS, graphqlProtection } from './graphql-limits.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { requestLimitsPlugin } from './request-limits.ts';
import { createAnalyticsLane, DEFAULT_ANALYTICS_CAPACITY, type AnalyticsLane } from '../services/analytics-lane.ts';
import { authStatusPlugin } from './auth-status.ts';
import { graphqlObservationPlugin } from './graphql-observation.ts';
import { createFrontHandler, type Route } from './http-front.ts';
import { createServerMetrics } from './server-metrics.ts';
import { countedEvents, countedReads } from './counted-services.ts';
import { createMetricsRoute } from './metrics-route.ts';
import { createCors } from './cors.ts';
import { graphiqlRoutes } from './graphiql.ts';
import { consoleRoutes } from './console-assets.ts';
import { observationOf } from './request-observation.ts';
import { admitEvents, handleRouteError, readinessRoute, refuse, sendJson } from './plain-routes.ts';
import { countRunsByStatus } from '../services/materialization-runs.ts';
import { createDecisionService } from '../services/decisions.ts';
import { PLACEMENT_IMPRESSION_EVENT } from '../decisioning/placement-tracking.ts';
import { createSqlEndpoint } from './sql-endpoint/sql-endpoint.ts';
import { servedDatabaseName, sqlServerIdentity } from './sql-endpoint/server-identity.ts';
import { readFileSync } from 'node:fs';
import { DEFAULT_CHANGE_PROPAGATION_MS, requestScopedChanges } from './request-changes.ts';

// The settings `createApp` takes are offered with it, so a caller builds them and the app from one import.
export type { AppConfig } from './app-config.ts';

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
  /**
   * Starts the PostgreSQL wire-protocol endpoint (SQL for BI tools) on `port`; resolves with
   * the bound port. `close` stops it with the HTTP server.
   */
  listenSql(port: number): Promise<number>;
  /** The in-process monitor scheduler (every `monitorIntervalMs`; `tick` evaluates due monitors now). */
  readonly monitors: ReturnType<typeof createMonitorScheduler>;
  /** The GraphQL fast path (api/graphql-fast-path.ts), unless switched off. */
  readonly graphqlFastPath: GraphqlFastPath<RequestContext> | undefined;
}

const DEFAULT_GRACE_MS = 10_000;
/** Longest a catalog query of a SQL client (psql's `\d`, a BI tool's metadata) may run on the catalog mirror. */
const SQL_CATALOG_TIMEOUT_MS = 10_000;

/**
 * Builds the HTTP application serving `domain` (its catalog, tags, events and channels; the
 * composition root, api/bundled-domain.ts, picks it): GraphQL at /graphql, events at
 * /v1/events, probes at /health and /ready.
 */
export async function createApp(database: Database, domain: Domain, config: AppConfig): Promise<App> {
  const introspection = config.introspection ?? true;
  const protection = graphqlProtection(config.graphqlLimits ?? DEFAULT_GRAPHQL_LIMITS, { introspection });
  const limiter = config.rateLimits ? createRateLimiter(config.rateLimits) : undefined;
  const analytics = createAnalyticsLane(database.analytics, config.analyticsCapacity ?? DEFAULT_ANALYTICS_CAPACITY, () => database.reads());
  const plugins: ApolloServerPlugin<RequestContext>[] = [
    ApolloServerPluginLandingPageDisabled(),
    ApolloServerPluginCacheControlDisabled(),
    retryableStatusPlugin(),
    authStatusPlugin(),
    graphqlObservationPlugin(),
    introspectionGuardPlugin(),
    ...protection.plugins,
    requestLimitsPlugin(limiter),
  ];
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
    plugins,
  });
  // Repeated documents skip Apollo's per-request overhead; the same plugins, rules and formatting apply.
  const fastPath =
    config.graphqlFastPath === false
      ? undefined
      : createGraphqlFastPath<RequestContext>({
          schema,
          validationRules: protection.validationRules,
          parseOptions: protection.parseOptions,
          plugins,
          formatError,
          profileReadExecutor: config.graphqlProfileReadExecutor,
          decideExecutor: config.graphqlDecideExecutor,
        });

  const metrics = createServerMetrics({
    poolUsage: () => database.poolUsage(),
    analyticsLoad: () => analytics.load(),
    materializationRuns: () => countRunsByStatus(database.probe),
    replicaLag: () => database.replica?.current(),
  });
  const subjectModel = domain.catalog.models.find((m) => m.name === domain.subject);
  const timeZone = subjectModel?.timeZone ?? 'UTC';
  const collector = createEventCollector(database, domain.events, {
    impressionCounting: { timeZone, eventName: PLACEMENT_IMPRESSION_EVENT },
    channels: domain.channels,
    maxPastDays: config.eventMaxPastDays,
    maxFutureMinutes: config.eventMaxFutureMinutes,
    quarantineUndeclared: config.quarantineUndeclaredEvents,
    personalData: { pseudonymKey: config.piiHmacKey, encryption: config.piiEncryptionKeys },
  });
  const events = countedEvents(collector, metrics);
  const catalog = servingCatalog(domain.catalog, config);
  // The caches' view of the change feed: bounded propagation from other instances, none from this one.
  const changes = requestScopedChanges(database.changes, config.changePropagationMs ?? DEFAULT_CHANGE_PROPAGATION_MS);
  const tags = createTagRuntime(database.db, tagSubject(indexCatalog(catalog), domain.subject), domain.tags, analytics, changes);
  const decisions = createDecisionService({
    database,
    events,
    tags,
    timeZone,
    channels: domain.channels,
    observeStage: metrics.observeDecideStage,
    impressionBatchesInFlight: config.decideImpressionBatches,
    revalidateImpressions: config.revalidateDecideImpressions,
  });
  const dialect = await chooseSqlDialect(database, config.sqlDialect);
  const semanticLayers = createSemanticProvider(catalog, domain.subject, tags, { maxRows: config.maxRows ?? 100_000, dialect });
  const privacyK = config.privacyK ?? DEFAULT_PRIVACY_K;
  const experiments = config.experiments ?? decisionExperimentSource(decisions.cache);
  const personalData = countedReads(createPersonalDataLog(database.db), metrics);
  const authenticator = createAuthenticator(database, {
    anonymousRole: config.anonymousRole ?? null,
    verifyJwt: config.jwt ? await createJwtVerifier(config.jwt, (input, path) => parseScope(tags, input, path)) : undefined,
    trustProxy: config.trustProxy ?? 0,
    failureLimit: config.authFailureLimit ?? 20,
    failureWindowMs: (config.authFailureWindowSeconds ?? 60) * 1000,
    localToken: config.localToken,
    changes,
  });
  // The caller's name goes into the request's access-log line once known.
  const authenticate = (request: IncomingMessage) =>
    authenticator.authenticate(request).then((principal) => {
      const observation = observationOf(request);
      if (observation) observation.key = principal.problem ? 'refused' : principal.name;
      return principal;
    });
  const monitors = createMonitorScheduler(
    {
      db: database.db,
      semantic: () => semanticLayers.current(),
      domain,
      privacyK,
      onError: (error) => (config.logger ?? logger).error({ err: error instanceof Error ? error.message : String(error) }, 'monitor run failed'),
    },
    config.monitorIntervalMs ?? 0,
  );
  await apollo.start();
  monitors.start();
  const context = async (request: IncomingMessage): Promise<RequestContext> => {
    // Nothing touches the database until a guarded field runs: public fields answer without it.
    let session: Promise<Session> | undefined;
    return {
      database,
      domain,
      events,
      tags,
      decisions,
      personalData,
      personalKeys: config.piiEncryptionKeys,
      analytics,
      experiments,
      monitors,
      clientAddress: request.socket.remoteAddress ?? 'unknown',
      requestId: observationOf(request)?.requestId ?? 'unobserved',
      materializeMaxDrift: config.materializeMaxDrift ?? DEFAULT_MAX_DRIFT,
      materializeStatementTimeoutMs: config.materializeStatementTimeoutMs ?? DEFAULT_MATERIALIZE_STATEMENT_TIMEOUT_MS,
      session: () =>
        (session ??= Promise.all([authenticate(request), semanticLayers.current()]).then(([principal, semantic]) => {
          const viewer = viewerOf(principal, privacyK);
          return {
            principal,
            actor: principal.name,
            semantic,
            canSeeSql: config.dev && isAllowed(principal, 'metrics.sql'),
            access: queryAccess(principal, domain.subject, privacyK),
            viewer,
            profiles: createProfileLoader(database, tags, viewer, personalData),
          };
        })),
    };
  };
  const routes: Record<string, Route> = {};
  const server = createServer(
    createFrontHandler({
      routes,
      metrics,
      cors: createCors(config.corsOrigins ?? []),
      logger: config.logger ?? logger,
      onError: handleRouteError,
      refuse: (response, status, code, message) => refuse(response, status, code, message),
    }),
  );
  closeIdleConnectionsSafely(server);
  const requests = trackRequests(server);
  const graphql = createGraphqlHandler(apollo, { maxBodyBytes: config.maxBodyBytes, context, fastPath });
  Object.assign(routes, {
    ...(config.consoleDir === null ? {} : consoleRoutes(config.consoleDir)),
    '/graphql': graphql,
    ...(config.graphiql ? graphiqlRoutes(graphql) : {}),
    '/metrics': createMetricsRoute(metrics, { token: config.metricsToken }),
    '/v1/events': createEventsRoute(events, {
      maxBodyBytes: config.maxBodyBytes,
      authorize: async (request) => admitEvents(await authenticate(request), request, limiter),
    }),
    '/health': async (_request, response) => sendJson(response, 200, { status: 'ok' }),
    '/ready': readinessRoute(database, requests),
  } satisfies Record<string, Route>);

  // The rollup refresh worker (one refreshes per cluster, under an advisory lock).
  const stopRollups =
    (config.rollupRefreshSeconds ?? 0) > 0
      ? startRollupWorker(
          database.db,
          async () => (await semanticLayers.current()).index.catalog,
          {
            subject: domain.subject,
            postgres: database.engine === 'postgres',
            dialect,
            statementTimeoutMs: config.materializeStatementTimeoutMs ?? DEFAULT_MATERIALIZE_STATEMENT_TIMEOUT_MS,
            onError: (error) => (config.logger ?? logger).error({ err: error }, 'rollup refresh failed'),
            onRefresh: (o) => {
              if (o.partitions > 0)
                (config.logger ?? logger).info({ rollups: o.rollups, partitions: o.partitions, rebuilt: o.rebuilt.length }, 'rollups refreshed');
            },
          },
          config.rollupRefreshSeconds ?? 0,
        )
      : async () => {};

  const sql = createSqlEndpoint(
    { semantic: () => semanticLayers.current(), analytics, limiter, privacyK, subject: domain.subject, logger: config.logger ?? logger },
    {
      tls: config.sqlTls ? { cert: readFileSync(config.sqlTls.certFile), key: readFileSync(config.sqlTls.keyFile) } : undefined,
      catalogTimeoutMs: SQL_CATALOG_TIMEOUT_MS,
      identity: sqlServerIdentity(config.sqlDatabase ?? (await servedDatabaseName(database))),
      authenticate: (credential, address) => authenticator.authenticateCredential(credential, address),
    },
  );
  let sqlListening = false;

  return {
    server,
    analytics,
    graphqlFastPath: fastPath,
    listenSql: async (port) => {
      const bound = await sql.listen(port);
      sqlListening = true;
      return bound;
    },
    monitors,
    listen: (port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, () => resolve((server.address() as AddressInfo).port));
      }),
    async close(options = {}) {
      const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
      const [report] = await Promise.all([requests.drain(graceMs), sqlListening ? sql.close(graceMs) : undefined]);
      await monitors.stop();
      await apollo.stop();
      await stopRollups();
      await personalData.close();
      authenticator.close();
      decisions.close();
      tags.close();
      return report;
    },
  };
}
