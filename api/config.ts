/**
 * The server's configuration: the settings the server and the CLI read (`ServerConfig`),
 * derived by `loadConfig` from the environment variables that api/config-schema.ts
 * validates (defaults that depend on other variables, settings grouped for the part that
 * uses them), and the database options that follow from it.
 */
import type { KeyObject } from 'node:crypto';
import type { DatabaseOptions } from '../store/database.ts';
import type { EncryptionKeyring } from '../store/personal-data-keys.ts';
import type { Role } from '../services/authorization.ts';
import type { GraphqlLimits } from './graphql-limits.ts';
import type { RateLimits } from './rate-limiter.ts';
import { defaultAnalyticsParallelWorkers, type AnalyticsCapacity } from '../services/analytics-lane.ts';
import type { CorsOrigins } from './cors.ts';
import type { TracingConfig } from './tracing.ts';
import type { LogLevel } from '../store/logger.ts';
import { ConfigSchema, list, type JwtAlgorithm } from './config-schema.ts';

/** How bearer JWTs are verified; JWTs are refused when this is absent. */
export interface JwtConfig {
  /** A JWKS file path or an https URL serving the issuer's public keys. */
  readonly jwks: string;
  readonly issuer: string;
  /** Accepted audiences: a token must name one of them. */
  readonly audience: readonly string[];
  readonly algorithms: readonly JwtAlgorithm[];
  /** The claim naming the caller's role. */
  readonly roleClaim: string;
  /** The claim that may lower the role's clearance. */
  readonly clearanceClaim: string;
  /** The claim carrying a row-level scope (a rule, as JSON). */
  readonly scopeClaim: string;
  /** Leeway for `exp` and `nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
}

export interface ServerConfig {
  readonly port: number;
  /** Port of the PostgreSQL wire-protocol endpoint (SQL for BI tools); null: not served. */
  readonly sqlPort: number | null;
  /** PEM files of the SQL endpoint's TLS key and certificate; unset: no TLS (connections from this machine only). */
  readonly sqlTls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** The database name the SQL endpoint reports (`current_database()`); unset: the served PostgreSQL database's name (`strata` on PGlite). */
  readonly sqlDatabase: string | undefined;
  /** PostgreSQL connection string; unset means embedded PGlite. */
  readonly databaseUrl: string | undefined;
  /** A streaming replica of `databaseUrl` for reads that may lag (metric queries, previews, insight, profile reads). */
  readonly readDatabaseUrl: string | undefined;
  /** Largest replica lag at which reads still go to the replica. */
  readonly readMaxLagSeconds: number;
  /** The SQL dialect metric statements are compiled for; `auto` detects Citus from `pg_extension`. */
  readonly sqlDialect: 'auto' | 'postgres' | 'citus';
  /** PGlite data folder (`memory://` keeps everything in memory). */
  readonly dataDir: string;
  /** Development mode: metric results include the SQL that ran. */
  readonly dev: boolean;
  /** Largest number of rows a metric query may return. */
  readonly maxRows: number;
  /** A dbt semantic-layer project folder served beside the bundled domain. */
  readonly dbtProject: string | undefined;
  /** The schema that replaces `$source_schema` in the dbt project. */
  readonly dbtSchema: string;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** PostgreSQL statement timeout in milliseconds; 0 means none. */
  readonly statementTimeoutMs: number;
  /** Largest number of PostgreSQL connections the server opens. */
  readonly poolSize: number;
  /** On SIGTERM or SIGINT, how long requests in flight may take to finish before they are cut off. */
  readonly shutdownGraceMs: number;
  /** Role of callers without credentials (`none` refuses them). */
  readonly anonymousRole: Role | null;
  /** Aggregates counting fewer customers are suppressed for callers without personal clearance. */
  readonly privacyK: number;
  /** How often the rollup refresh worker of this process looks for stale partitions (one refreshes per cluster); 0: no worker (the default on PGlite). */
  readonly rollupRefreshSeconds: number;
  /** Whether GraphQL introspection answers (default: on, off when NODE_ENV=production). */
  readonly introspection: boolean;
  /** Events whose `occurredAt` is older than this many days are rejected. */
  readonly eventMaxPastDays: number;
  /** Events whose `occurredAt` is further ahead than this many minutes are rejected. */
  readonly eventMaxFutureMinutes: number;
  /** Keep events of undeclared names in quarantine for stewards instead of rejecting them. */
  readonly quarantineUndeclaredEvents: boolean;
  /** HMAC-SHA256 key for pseudonyms of personal event properties; unset: generated per installation. */
  readonly piiHmacKey: KeyObject | undefined;
  /** AES-256-GCM keys for the encrypted copies of personal event properties; unset: no copy is kept. */
  readonly piiEncryptionKeys: EncryptionKeyring | undefined;
  /** A materialization moving more than this share of customers in any tag is held for an approver (1 never holds). */
  readonly materializeMaxDrift: number;
  /** Longest a statement of a materialization may run (a batch job, not an interactive query); 0: none. */
  readonly materializeStatementTimeoutMs: number;
  /** Bearer JWT verification; unset refuses JWTs. */
  readonly jwt: JwtConfig | undefined;
  /** Proxies in front that append to X-Forwarded-For (0: use the socket's address). */
  readonly trustProxy: number;
  /** Failed authentications one address may make per window before it is refused (0: no limit). */
  readonly authFailureLimit: number;
  readonly authFailureWindowSeconds: number;
  /** Depth, alias, cost, token and directive limits of GraphQL documents. */
  readonly graphqlLimits: GraphqlLimits;
  /** Per-key (anonymous: per-address) request rates per operation class, per server instance. */
  readonly rateLimits: RateLimits;
  /** How many expensive reads run at once and wait, and for how long. */
  readonly analyticsCapacity: AnalyticsCapacity;
  /** `max_parallel_workers_per_gather` of the analytics connections (PostgreSQL). */
  readonly analyticsParallelWorkers: number;
  /**
   * Nice value of the analytics connections' PostgreSQL backends on this machine (0: unchanged);
   * unset: store/backend-priority.ts's default, applied only to a database on this machine.
   */
  readonly analyticsNice: number | undefined;
  /** `PGHOST`: where a database URL without a host connects (node-postgres reads it too). */
  readonly databaseDefaultHost: string | undefined;
  /**
   * The longest a change committed on another instance (key revoked, definition changed)
   * may take to reach this instance's caches (api/request-changes.ts); 0: every request
   * waits for a round trip on the LISTEN connection. Changes made through this instance apply at once.
   */
  readonly changePropagationMs: number;
  /** `decide`'s impression statements written at once (group commit, services/decisions.ts). */
  readonly decideImpressionBatches: number;
  /** How often the in-process scheduler evaluates due monitors (0: never; `runMonitors` still does). */
  readonly monitorIntervalMs: number;
  /** Bearer token `/metrics` requires; unset: `/metrics` answers loopback scrapes only. */
  readonly metricsToken: string | undefined;
  /** Origins allowed to call the API from a browser (`*` or a list; empty: none). */
  readonly corsOrigins: CorsOrigins;
  /** Whether `GET /graphql` serves GraphiQL to browsers (default: on, off when NODE_ENV=production). */
  readonly graphiql: boolean;
  /** Whether repeated GraphQL documents skip Apollo's per-request pipeline (api/graphql-fast-path.ts); same answers either way. */
  readonly graphqlFastPath: boolean;
  /** Whether statement spans carry the SQL text (never the parameters). */
  readonly traceSqlText: boolean;
  /** OpenTelemetry trace export; unset: tracing is off. */
  readonly tracing: TracingConfig | undefined;
  /** The least severe log line written (pino's levels, or `silent`). */
  readonly logLevel: LogLevel;
}

/**
 * Reads the configuration from the environment: every variable Strata reads is validated
 * here, and nowhere else reads `process.env`. Throws one line naming each bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    sqlPort: c.STRATA_SQL_PORT,
    sqlTls: c.STRATA_SQL_TLS_CERT && c.STRATA_SQL_TLS_KEY ? { certFile: c.STRATA_SQL_TLS_CERT, keyFile: c.STRATA_SQL_TLS_KEY } : undefined,
    sqlDatabase: c.STRATA_SQL_DATABASE,
    databaseUrl: c.DATABASE_URL,
    readDatabaseUrl: c.STRATA_READ_DATABASE_URL,
    readMaxLagSeconds: c.STRATA_READ_MAX_LAG_SECONDS,
    sqlDialect: c.STRATA_SQL_DIALECT,
    dataDir: c.STRATA_DATA_DIR,
    dev: c.STRATA_DEV,
    maxRows: c.STRATA_MAX_ROWS,
    dbtProject: c.STRATA_DBT_PROJECT,
    dbtSchema: c.STRATA_DBT_SCHEMA,
    maxBodyBytes: c.STRATA_MAX_BODY_BYTES,
    statementTimeoutMs: c.STRATA_STATEMENT_TIMEOUT_MS,
    poolSize: c.STRATA_DB_POOL_SIZE,
    shutdownGraceMs: c.STRATA_SHUTDOWN_GRACE_MS,
    anonymousRole: c.STRATA_ANONYMOUS_ROLE === 'none' ? null : c.STRATA_ANONYMOUS_ROLE,
    privacyK: c.STRATA_PRIVACY_K,
    // On embedded PGlite (one connection) refreshes would hold up every request: off unless asked for.
    rollupRefreshSeconds: c.STRATA_ROLLUP_REFRESH_SECONDS ?? (c.DATABASE_URL ? 60 : 0),
    introspection: c.STRATA_INTROSPECTION === undefined ? c.NODE_ENV !== 'production' : c.STRATA_INTROSPECTION === '1' || c.STRATA_INTROSPECTION === 'true',
    eventMaxPastDays: c.STRATA_EVENT_MAX_PAST_DAYS,
    eventMaxFutureMinutes: c.STRATA_EVENT_MAX_FUTURE_MINUTES,
    quarantineUndeclaredEvents: c.STRATA_QUARANTINE_UNDECLARED_EVENTS,
    piiHmacKey: c.STRATA_PII_HMAC_KEY,
    piiEncryptionKeys: c.STRATA_PII_ENCRYPTION_KEY,
    materializeMaxDrift: c.STRATA_MATERIALIZE_MAX_DRIFT,
    materializeStatementTimeoutMs: c.STRATA_MATERIALIZE_STATEMENT_TIMEOUT_MS,
    jwt: c.STRATA_JWT_JWKS
      ? {
          jwks: c.STRATA_JWT_JWKS,
          issuer: c.STRATA_JWT_ISSUER ?? '',
          audience: list(c.STRATA_JWT_AUDIENCE ?? ''),
          algorithms: c.STRATA_JWT_ALGORITHMS,
          roleClaim: c.STRATA_JWT_ROLE_CLAIM,
          clearanceClaim: c.STRATA_JWT_CLEARANCE_CLAIM,
          scopeClaim: c.STRATA_JWT_SCOPE_CLAIM,
          clockToleranceSeconds: c.STRATA_JWT_CLOCK_TOLERANCE_SECONDS,
        }
      : undefined,
    trustProxy: c.STRATA_TRUST_PROXY,
    authFailureLimit: c.STRATA_AUTH_FAILURE_LIMIT,
    authFailureWindowSeconds: c.STRATA_AUTH_FAILURE_WINDOW_SECONDS,
    graphqlLimits: {
      maxDepth: c.STRATA_MAX_DEPTH,
      maxAliases: c.STRATA_MAX_ALIASES,
      maxCost: c.STRATA_MAX_COST,
      maxTokens: c.STRATA_MAX_TOKENS,
      maxDirectives: c.STRATA_MAX_DIRECTIVES,
    },
    rateLimits: {
      profiles: c.STRATA_RATE_PROFILES,
      events: c.STRATA_RATE_EVENTS,
      analytics: c.STRATA_RATE_ANALYTICS,
      definitions: c.STRATA_RATE_DEFINITIONS,
      catalog: c.STRATA_RATE_CATALOG,
    },
    analyticsCapacity: {
      concurrency: c.STRATA_ANALYTICS_CONCURRENCY,
      queue: c.STRATA_ANALYTICS_QUEUE,
      queueTimeoutMs: c.STRATA_ANALYTICS_QUEUE_TIMEOUT_MS,
    },
    analyticsParallelWorkers: c.STRATA_ANALYTICS_PARALLEL_WORKERS ?? defaultAnalyticsParallelWorkers(c.STRATA_ANALYTICS_CONCURRENCY),
    analyticsNice: c.STRATA_ANALYTICS_NICE,
    databaseDefaultHost: c.PGHOST,
    changePropagationMs: c.STRATA_CHANGE_PROPAGATION_MS,
    decideImpressionBatches: c.STRATA_DECIDE_IMPRESSION_BATCHES,
    monitorIntervalMs: c.STRATA_MONITOR_INTERVAL_MS,
    metricsToken: c.STRATA_METRICS_TOKEN,
    corsOrigins: c.STRATA_CORS_ORIGINS,
    graphqlFastPath: c.STRATA_GRAPHQL_FAST_PATH,
    graphiql: c.STRATA_GRAPHIQL === undefined ? c.NODE_ENV !== 'production' : c.STRATA_GRAPHIQL === '1' || c.STRATA_GRAPHIQL === 'true',
    traceSqlText: c.STRATA_TRACE_SQL,
    tracing: tracingConfig(c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? c.OTEL_EXPORTER_OTLP_ENDPOINT, c.OTEL_SERVICE_NAME, c.OTEL_TRACES_SAMPLER_ARG),
    logLevel: c.LOG_LEVEL,
  };
}

function tracingConfig(endpoint: string | undefined, serviceName: string, sampleRatio: number): TracingConfig | undefined {
  return endpoint ? { endpoint, serviceName, sampleRatio } : undefined;
}

/** How the server opens its database, from the configuration. */
export function databaseOptions(config: ServerConfig): DatabaseOptions {
  return {
    databaseUrl: config.databaseUrl,
    readDatabaseUrl: config.readDatabaseUrl,
    replicaMaxLagSeconds: config.readMaxLagSeconds,
    dataDir: config.dataDir,
    poolSize: config.poolSize,
    statementTimeoutMs: config.statementTimeoutMs,
    analyticsPoolSize: config.analyticsCapacity.concurrency,
    analyticsParallelWorkers: config.analyticsParallelWorkers,
    analyticsNice: config.analyticsNice,
    defaultHost: config.databaseDefaultHost,
    traceSqlText: config.traceSqlText,
  };
}
