/**
 * The environment variables Strata reads: their names, defaults and validation, including
 * the checks that span several variables. `loadConfig` (api/config.ts) parses the
 * environment with this schema, reports every bad variable at once, and derives the
 * server's configuration from the parsed values.
 */
import { z } from 'zod';
import { existsSync } from 'node:fs';
import { parseEncryptionKeyring, parsePseudonymKey } from '../store/personal-data-keys.ts';
import { ROLES } from '../services/authorization.ts';
import { DEFAULT_PRIVACY_K } from '../services/access.ts';
import { DEFAULT_MAX_DRIFT } from '../services/materialization-drift.ts';
import { DEFAULT_MATERIALIZE_STATEMENT_TIMEOUT_MS } from '../services/profile-materialization.ts';
import { DEFAULT_EVENT_MAX_FUTURE_MINUTES, DEFAULT_EVENT_MAX_PAST_DAYS } from '../modeling/events/validate-event.ts';
import { DEFAULT_GRAPHQL_LIMITS } from './graphql-limits.ts';
import { DEFAULT_RATE_LIMITS, parseRateLimit, type RateLimit } from './rate-limiter.ts';
import { DEFAULT_CHANGE_PROPAGATION_MS } from './request-changes.ts';
import { DEFAULT_ANALYTICS_CAPACITY } from '../services/analytics-lane.ts';
import { parseCorsOrigins, type CorsOrigins } from './cors.ts';
import { LOG_LEVELS } from '../store/logger.ts';

/** Signature algorithms a JWT may use: asymmetric only, so a public key can never verify an HMAC. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

const claimName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s]+$/, 'must be a claim name without spaces');
/** The items of a comma-separated variable, trimmed, without empty ones. */
export const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export const ConfigSchema = z
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
    // libpq's variable, which node-postgres also reads: the host of a connection string that names none.
    PGHOST: z.string().optional(),
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
    STRATA_ANALYTICS_NICE: z.coerce.number().int().min(0).max(19).optional(),
    STRATA_CHANGE_PROPAGATION_MS: z.coerce.number().int().min(0).max(5_000).default(DEFAULT_CHANGE_PROPAGATION_MS),
    STRATA_DECIDE_IMPRESSION_BATCHES: z.coerce.number().int().min(1).max(8).default(1),
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
