import { z } from 'zod';
import { existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import type { DatabaseOptions } from '../store/database.ts';
import { parseEncryptionKeyring, parsePseudonymKey, type EncryptionKeyring } from '../store/personal-data-keys.ts';
import { ROLES, type Role } from '../services/authorization.ts';
import { DEFAULT_PRIVACY_K } from '../services/access.ts';
import { DEFAULT_MAX_DRIFT } from '../services/materialization-drift.ts';
import { DEFAULT_MATERIALIZE_STATEMENT_TIMEOUT_MS } from '../services/profile-materialization.ts';
import { DEFAULT_EVENT_MAX_FUTURE_MINUTES, DEFAULT_EVENT_MAX_PAST_DAYS } from '../modeling/events/validate-event.ts';
import { DEFAULT_GRAPHQL_LIMITS, type GraphqlLimits } from './graphql-limits.ts';
import { DEFAULT_RATE_LIMITS, parseRateLimit, type RateLimit, type RateLimits } from './rate-limiter.ts';
import { DEFAULT_CHANGE_PROPAGATION_MS } from './request-changes.ts';
import { DEFAULT_ANALYTICS_CAPACITY, defaultAnalyticsParallelWorkers, type AnalyticsCapacity } from '../services/analytics-lane.ts';
import { parseCorsOrigins, type CorsOrigins } from './cors.ts';
import type { TracingConfig } from './tracing.ts';
import { LOG_LEVELS, type LogLevel } from '../store/logger.ts';

/** Signature algorithms a JWT may use: asymmetric only, so a public key can never verify an HMAC. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

const claimName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s]+$/, 'must be a claim name without spaces');
const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const ConfigSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    STRATA_SQL_PORT: z
      .string()
      .default('5433')
      .transform((text, context): number | null => {
        if (text.trim().toLowerCase() === 'off') return null;
        const port = Number(text);
        if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
        context.addIssue({ code: 'custom', message: 'must be a port (0-65535) or off' });
        return z.NEVER;
      }),
    STRATA_SQL_TLS_CERT: z.string().min(1).optional(),
    STRATA_SQL_TLS_KEY: z.string().min(1).optional(),
    STRATA_SQL_DATABASE: z
      .string()
      .trim()
      .min(1)
      .max(63, 'must be at most 63 bytes (a PostgreSQL name)')
      .regex(/^[^\0]+$/)
      .optional(),
    DATABASE_URL: z.string().url().optional(),
    STRATA_READ_DATABASE_URL: z.string().url().optional(),
    STRATA_READ_MAX_LAG_SECONDS: z.coerce.number().min(0).max(86_400).default(30),
    STRATA_SQL_DIALECT: z.enum(['auto', 'postgres', 'citus']).default('auto'),
    STRATA_DATA_DIR: z.string().min(1).default('.strata-data'),
    STRATA_DEV: z
      .enum(['0', '1', 'true', 'false'])
      .default('0')
      .transform((v) => v === '1' || v === 'true'),
    STRATA_MAX_ROWS: z.coerce.number().int().positive().default(100_000),
    STRATA_DBT_PROJECT: z.string().min(1).optional(),
    STRATA_DBT_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_$]*$/i, 'must be a schema name')
      .default('public'),
    STRATA_ANONYMOUS_ROLE: z.enum(['none', ...ROLES]).default('none'),
    NODE_ENV: z.string().optional(),
    STRATA_INTROSPECTION: z.enum(['0', '1', 'true', 'false']).optional(),
    STRATA_PRIVACY_K: z.coerce.number().int().min(2).max(1000).default(DEFAULT_PRIVACY_K),
    STRATA_ROLLUP_REFRESH_SECONDS: z.coerce.number().int().min(0).max(86_400).optional(),
    STRATA_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(2 * 1024 * 1024),
    STRATA_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
    STRATA_DB_POOL_SIZE: z.coerce.number().int().positive().max(1000).default(10),
    STRATA_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
    STRATA_EVENT_MAX_PAST_DAYS: z.coerce.number().positive().default(DEFAULT_EVENT_MAX_PAST_DAYS),
    STRATA_EVENT_MAX_FUTURE_MINUTES: z.coerce.number().min(0).default(DEFAULT_EVENT_MAX_FUTURE_MINUTES),
    STRATA_MATERIALIZE_MAX_DRIFT: z.coerce.number().min(0).max(1).default(DEFAULT_MAX_DRIFT),
    STRATA_MATERIALIZE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(DEFAULT_MATERIALIZE_STATEMENT_TIMEOUT_MS),
    STRATA_QUARANTINE_UNDECLARED_EVENTS: z
      .enum(['0', '1', 'true', 'false'])
      .default('0')
      .transform((v) => v === '1' || v === 'true'),
    STRATA_MAX_DEPTH: z.coerce.number().int().min(1).default(DEFAULT_GRAPHQL_LIMITS.maxDepth),
    STRATA_MAX_ALIASES: z.coerce.number().int().min(0).default(DEFAULT_GRAPHQL_LIMITS.maxAliases),
    STRATA_MAX_COST: z.coerce.number().positive().default(DEFAULT_GRAPHQL_LIMITS.maxCost),
    STRATA_MAX_TOKENS: z.coerce.number().int().min(10).default(DEFAULT_GRAPHQL_LIMITS.maxTokens),
    STRATA_MAX_DIRECTIVES: z.coerce.number().int().min(0).default(DEFAULT_GRAPHQL_LIMITS.maxDirectives),
    STRATA_RATE_PROFILES: rate(DEFAULT_RATE_LIMITS.profiles),
    STRATA_RATE_EVENTS: rate(DEFAULT_RATE_LIMITS.events),
    STRATA_RATE_ANALYTICS: rate(DEFAULT_RATE_LIMITS.analytics),
    STRATA_RATE_DEFINITIONS: rate(DEFAULT_RATE_LIMITS.definitions),
    STRATA_RATE_CATALOG: rate(DEFAULT_RATE_LIMITS.catalog),
    STRATA_ANALYTICS_CONCURRENCY: z.coerce.number().int().positive().max(1000).default(DEFAULT_ANALYTICS_CAPACITY.concurrency),
    STRATA_ANALYTICS_QUEUE: z.coerce.number().int().min(0).default(DEFAULT_ANALYTICS_CAPACITY.queue),
    STRATA_ANALYTICS_QUEUE_TIMEOUT_MS: z.coerce.number().int().positive().default(DEFAULT_ANALYTICS_CAPACITY.queueTimeoutMs),
    STRATA_ANALYTICS_PARALLEL_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
    STRATA_CHANGE_PROPAGATION_MS: z.coerce.number().int().min(0).max(5_000).default(DEFAULT_CHANGE_PROPAGATION_MS),
    STRATA_MONITOR_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
    STRATA_PII_HMAC_KEY: secret(parsePseudonymKey),
    STRATA_PII_ENCRYPTION_KEY: secret(parseEncryptionKeyring),
    STRATA_JWT_JWKS: z
      .string()
      .min(1)
      .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || isAllowedJwksUrl(v), 'must be a file path or an https:// URL (http:// only for localhost)')
      .optional(),
    STRATA_JWT_ISSUER: z.string().min(1).optional(),
    STRATA_JWT_AUDIENCE: z.string().min(1).optional(),
    STRATA_JWT_ALGORITHMS: z
      .string()
      .default('RS256,ES256')
      .transform(list)
      .pipe(z.array(z.enum(JWT_ALGORITHMS, { message: `each must be one of ${JWT_ALGORITHMS.join(', ')} (never none or HS*)` })).min(1)),
    STRATA_JWT_ROLE_CLAIM: claimName.default('role'),
    STRATA_JWT_CLEARANCE_CLAIM: claimName.default('strata_clearance'),
    STRATA_JWT_SCOPE_CLAIM: claimName.default('strata_scope'),
    STRATA_JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    STRATA_TRUST_PROXY: z
      .string()
      .default('0')
      .transform((v) => (v === 'true' ? 1 : v === 'false' ? 0 : Number(v)))
      .pipe(z.number({ message: 'must be 0, 1 (true) or the number of proxies in front' }).int().min(0).max(10)),
    STRATA_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).default(20),
    STRATA_AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().positive().max(86_400).default(60),
    // Operations: metrics, CORS, GraphiQL, traces.
    STRATA_METRICS_TOKEN: z
      .string()
      .min(16, 'must be at least 16 characters')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional(),
    STRATA_CORS_ORIGINS: z
      .string()
      .optional()
      .transform((text, context): CorsOrigins => {
        try {
          return parseCorsOrigins(text);
        } catch (error) {
          context.addIssue({ code: 'custom', message: (error as Error).message });
          return z.NEVER;
        }
      }),
    STRATA_GRAPHIQL: z.enum(['0', '1', 'true', 'false']).optional(),
    STRATA_GRAPHQL_FAST_PATH: z
      .enum(['0', '1', 'true', 'false'])
      .default('1')
      .transform((v) => v === '1' || v === 'true'),
    STRATA_TRACE_SQL: z
      .enum(['0', '1', 'true', 'false'])
      .default('0')
      .transform((v) => v === '1' || v === 'true'),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
    OTEL_SERVICE_NAME: z.string().min(1).max(200).default('strata'),
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
    LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  })
  .superRefine((c, context) => {
    if (c.STRATA_READ_DATABASE_URL && !c.DATABASE_URL)
      context.addIssue({ code: 'custom', path: ['STRATA_READ_DATABASE_URL'], message: 'needs DATABASE_URL (a read replica of PostgreSQL; PGlite has none)' });
    if (Boolean(c.STRATA_SQL_TLS_CERT) !== Boolean(c.STRATA_SQL_TLS_KEY))
      context.addIssue({
        code: 'custom',
        path: [c.STRATA_SQL_TLS_CERT ? 'STRATA_SQL_TLS_KEY' : 'STRATA_SQL_TLS_CERT'],
        message: 'STRATA_SQL_TLS_CERT and STRATA_SQL_TLS_KEY go together',
      });
    for (const name of ['STRATA_SQL_TLS_CERT', 'STRATA_SQL_TLS_KEY'] as const) {
      const path = c[name];
      if (path && !existsSync(path)) context.addIssue({ code: 'custom', path: [name], message: `no file at ${path}` });
    }
    if (!c.STRATA_JWT_JWKS) return;
    for (const name of ['STRATA_JWT_ISSUER', 'STRATA_JWT_AUDIENCE'] as const) {
      if (!c[name]) context.addIssue({ code: 'custom', path: [name], message: 'is required when STRATA_JWT_JWKS is set' });
    }
  });

/** A per-key rate limit, `RATE[/BURST]` requests per second or `off`. */
function rate(fallback: RateLimit | null) {
  return z
    .string()
    .optional()
    .transform((text, context): RateLimit | null => {
      if (text === undefined || text.trim() === '') return fallback;
      try {
        return parseRateLimit(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}

/** An optional key variable decoded by `parse`; problems are reported without the key text. */
function secret<T>(parse: (text: string) => T) {
  return z
    .string()
    .optional()
    .transform((text, context): T | undefined => {
      if (text === undefined || text.trim() === '') return undefined;
      try {
        return parse(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'is not a valid key' });
        return z.NEVER;
      }
    });
}

function isAllowedJwksUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
  } catch {
    return false;
  }
}

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
   * The longest a change committed on another instance (key revoked, definition changed)
   * may take to reach this instance's caches (api/request-changes.ts); 0: every request
   * waits for a round trip on the LISTEN connection. Changes made through this instance apply at once.
   */
  readonly changePropagationMs: number;
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
    changePropagationMs: c.STRATA_CHANGE_PROPAGATION_MS,
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
    traceSqlText: config.traceSqlText,
  };
}
