/**
 * The settings `createApp` (api/app.ts) takes: a subset of the server's configuration
 * (api/config.ts, read from the environment by `loadConfig`) plus what only an embedding
 * process or a test passes in, such as the logger and the console's folder.
 */
import type { Logger } from 'pino';
import type { ExperimentDefinitionSource } from '../services/experiment-definitions.ts';
import type { ServerConfig } from './config.ts';

/**
 * What `createApp` needs; settings fall back to their defaults when omitted, except
 * `rateLimits`: omitted, no per-key rate limit applies, and `rollupRefreshSeconds`:
 * omitted, this process runs no rollup refresh worker (the server's configuration, read by
 * `loadConfig`, always has them).
 */
export type AppConfig = Pick<ServerConfig, 'dev' | 'maxBodyBytes'> &
  Partial<
    Pick<
      ServerConfig,
      | 'anonymousRole'
      | 'privacyK'
      | 'introspection'
      | 'maxRows'
      | 'dbtProject'
      | 'dbtSchema'
      | 'eventMaxPastDays'
      | 'eventMaxFutureMinutes'
      | 'quarantineUndeclaredEvents'
      | 'materializeMaxDrift'
      | 'materializeStatementTimeoutMs'
      | 'sqlDialect'
      | 'rollupRefreshSeconds'
    >
  > &
  Partial<
    Pick<
      ServerConfig,
      | 'piiHmacKey'
      | 'piiEncryptionKeys'
      | 'jwt'
      | 'trustProxy'
      | 'authFailureLimit'
      | 'authFailureWindowSeconds'
      | 'graphqlLimits'
      | 'rateLimits'
      | 'analyticsCapacity'
      | 'monitorIntervalMs'
      | 'changePropagationMs'
      | 'decideImpressionBatches'
    >
  > &
  Partial<Pick<ServerConfig, 'metricsToken' | 'corsOrigins' | 'graphiql' | 'sqlTls' | 'sqlDatabase' | 'graphqlFastPath'>> & {
    /** Where access-log lines go (default: the process logger, store/logger.ts). */
    readonly logger?: Logger;
    /** The CLI's credential on the server owning a PGlite folder (api/local-credential.ts); unset accepts none. */
    readonly localToken?: string | undefined;
    /** Where `experimentResults` finds experiment definitions. Default: the decision layer's published experiments. */
    readonly experiments?: ExperimentDefinitionSource;
    /** The web console's build folder served at `GET /` (default dist/console, api/console-assets.ts); null serves none. */
    readonly consoleDir?: string | null;
    /**
     * Whether the fast path runs plain profile reads without graphql-js's per-field work
     * (api/profile-read-executor.ts; same answers). Default on; off for comparisons (tests, bench/allocation.ts).
     */
    readonly graphqlProfileReadExecutor?: boolean;
    /** Whether the fast path runs plain `decide` mutations itself (api/decide-executor.ts; same answers). Default on. */
    readonly graphqlDecideExecutor?: boolean;
    /** Whether `decide` validates its built impressions again like a client's events (services/decisions.ts; default no). For comparisons (bench/allocation.ts). */
    readonly revalidateDecideImpressions?: boolean;
  };
