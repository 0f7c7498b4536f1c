import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { createPostgresPool } from './postgres-pool.ts';
import { analyticsBackendPriority } from './backend-priority.ts';
import { createInProcessChangeFeed, type ChangeFeed } from './change-feed.ts';
import { createPostgresChangeFeed, type ListenerOptions, listenerClient } from './postgres-change-feed.ts';
import { startPgliteWorker } from './pglite-worker-client.ts';
import { createPgliteWorkerDialect } from './pglite-worker-dialect.ts';
import { statementKind, traceStatement, tracedDialect } from './sql-tracing.ts';
import { startReplicaMonitor, type ReplicaMonitor } from './replica.ts';
import { cancellableDialect } from './cancel-scope.ts';

export type Engine = 'pglite' | 'postgres';

export interface DatabaseOptions {
  /** `postgres://...` for PostgreSQL; unset for embedded PGlite. */
  readonly databaseUrl?: string | undefined;
  /** PGlite data folder; unset (or `memory://`) keeps the data in memory. */
  readonly dataDir?: string | undefined;
  /** Largest pool for PostgreSQL (default 10). */
  readonly poolSize?: number | undefined;
  /**
   * Longest a statement may run, in milliseconds (default 30 s; 0: none): PostgreSQL's
   * `statement_timeout`; on PGlite the worker's time limit (see `pglite-worker-client.ts`).
   * Either way a statement cut off rejects with SQLSTATE 57014.
   */
  readonly statementTimeoutMs?: number | undefined;
  /** Connections of the PostgreSQL pool for expensive reads (`analytics`; default 4). */
  readonly analyticsPoolSize?: number | undefined;
  /**
   * `max_parallel_workers_per_gather` of the analytics connections (primary and replica);
   * unset: the database's setting.
   */
  readonly analyticsParallelWorkers?: number | undefined;
  /**
   * Nice value (0-19) of the analytics connections' PostgreSQL backends when the database runs
   * on this machine (primary and replica; store/backend-priority.ts); unset: 10; 0: unchanged.
   */
  readonly analyticsNice?: number | undefined;
  /** Where a database URL without a host connects (`PGHOST`, as node-postgres reads it): whether that is this machine. */
  readonly defaultHost?: string | undefined;
  /** Record SQL text on the statement spans of traced requests (never the parameters; default off). */
  readonly traceSqlText?: boolean | undefined;
  /**
   * `postgres://...` of a streaming replica of `databaseUrl` (PostgreSQL only): reads that
   * may lag (`reads()`, `preparedRead`) go there while it is within `replicaMaxLagSeconds`.
   */
  readonly readDatabaseUrl?: string | undefined;
  /** The largest replica lag reads accept before they go back to the primary (default 30 s). */
  readonly replicaMaxLagSeconds?: number | undefined;
  /** How often the replica's lag is measured (default 5 s). */
  readonly replicaCheckIntervalMs?: number | undefined;
  /** The change feed's reconnect delays and sync wait (PostgreSQL; see `postgres-change-feed.ts`). */
  readonly changeFeed?: ListenerOptions | undefined;
}

/**
 * `work_mem` of the analytics connections: at a million customers a month of events per
 * customer (funnel entries, distinct pairs, conversion anchors) sorts or hashes in memory
 * instead of spilling to disk in many batches. Each sort or hash node may take this much, so
 * a statement takes a few times it, times the analytics concurrency (4 by default).
 */
const ANALYTICS_WORK_MEM = '64MB';

/** The statement time limit when none is configured, on both engines (`postgres-pool.ts` too). */
const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  /**
   * Expensive reads (metric queries, previews, insight, audience counts, materialization):
   * on PostgreSQL a pool of their own (`analyticsPoolSize`, application name
   * `strata-analytics`), so they never hold the connections of profile reads and event
   * writes; on PGlite the one connection, `db`.
   */
  readonly analytics: Kysely<DatabaseSchema>;
  /**
   * Where expensive reads that may lag the primary by a replica's lag run (metric queries,
   * previews, insight, audience counts): the read replica's analytics pool while a replica
   * is configured (`readDatabaseUrl`) and serving, otherwise `analytics`. Writes, and reads
   * that must see a write just made (materialization, curation, key lookups), never use it.
   */
  reads(): Kysely<DatabaseSchema>;
  /** The replica's measured lag and whether it serves reads now; undefined without a replica. */
  readonly replica: ReplicaMonitor | undefined;
  /**
   * Health probes: on PostgreSQL one connection of its own with a 3 s connect and statement
   * timeout, so `/ready` reports the database, not the load on the pools; on PGlite `db`.
   */
  readonly probe: Kysely<DatabaseSchema>;
  readonly engine: Engine;
  /** Change notifications between the processes serving this database (store/change-feed.ts). */
  readonly changes: ChangeFeed;
  /**
   * Runs one fixed statement of a hot read path by name: PostgreSQL parses and plans it
   * once per connection (a named prepared statement); PGlite runs it through Kysely's
   * connection (so it never lands inside another caller's transaction).
   */
  prepared<R>(name: string, text: string, values: readonly unknown[]): Promise<R[]>;
  /** `prepared` on the read replica while it serves (profile reads of the published snapshot), else on the primary. */
  preparedRead<R>(name: string, text: string, values: readonly unknown[]): Promise<R[]>;
  /**
   * Connections of each PostgreSQL pool now (`main`, `analytics`, `probe`), for metrics;
   * empty on PGlite, which has one connection and no pool.
   */
  poolUsage(): readonly PoolUsage[];
  /** Loads CSV text into a table with COPY, the fastest path on both engines. */
  copyCsv(table: string, columns: readonly string[], csv: AsyncIterable<string> | string): Promise<void>;
  close(): Promise<void>;
}

/** The connections of one pool: open ones, idle ones among them, and callers waiting for one. */
export interface PoolUsage {
  readonly pool: 'main' | 'analytics' | 'probe' | 'replica' | 'replica_analytics' | 'replica_probe';
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/**
 * Opens the platform database: PostgreSQL through a `pg` pool when `databaseUrl` is set,
 * otherwise PGlite in a worker thread, so a long statement never blocks the event loop. Both speak the same SQL and return the same value shapes:
 * `numeric` as a string, `date` as `YYYY-MM-DD`, `bigint` as a number when it is safe.
 *
 * ```ts
 * const { db, close } = await openDatabase({ dataDir: 'memory://' });
 * await db.selectFrom('wealth.customers').selectAll().execute();
 * await close();
 * ```
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (options.readDatabaseUrl && !options.databaseUrl) throw new Error('a read replica (STRATA_READ_DATABASE_URL) needs PostgreSQL (DATABASE_URL)');
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openPglite(options);
}

async function openPglite(options: DatabaseOptions): Promise<Database> {
  const client = await startPgliteWorker({
    dataDir: options.dataDir ?? 'memory://',
    statementTimeoutMs: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
  });
  const db = new Kysely<DatabaseSchema>({
    dialect: tracedDialect(cancellableDialect(createPgliteWorkerDialect(client)), { pool: 'pglite', sqlText: options.traceSqlText ?? false }),
  });
  const changes = createInProcessChangeFeed();
  const prepared = async <R>(_name: string, text: string, values: readonly unknown[]) =>
    (await db.executeQuery(CompiledQuery.raw(text, [...values]))).rows as R[];
  return {
    db,
    analytics: db,
    reads: () => db,
    replica: undefined,
    probe: db,
    engine: 'pglite',
    changes,
    poolUsage: () => [],
    prepared,
    preparedRead: prepared,
    async copyCsv(table, columns, csv) {
      const text = typeof csv === 'string' ? csv : await collect(csv);
      const sqlText = `COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`;
      // Holding Kysely's connection keeps the COPY out of another caller's transaction.
      await db.connection().execute(async () => {
        await client.request({ kind: 'copy', sql: sqlText, csv: text });
      });
    },
    // Kysely ends its driver only once a query has run: close the worker in any case.
    async close() {
      await changes.close();
      await db.destroy();
      await client.close();
    },
  };
}

async function openPostgres(databaseUrl: string, options: DatabaseOptions): Promise<Database> {
  const sqlText = options.traceSqlText ?? false;
  const pool = createPostgresPool(databaseUrl, options);
  const db = new Kysely<DatabaseSchema>({ dialect: tracedDialect(new PostgresDialect({ pool }), { pool: 'main', sqlText }) });
  // Pools open their connections on first use: an idle pool holds none.
  const analyticsPool = createPostgresPool(databaseUrl, {
    ...options,
    poolSize: options.analyticsPoolSize ?? 4,
    applicationName: 'strata-analytics',
    workMem: ANALYTICS_WORK_MEM,
    parallelWorkersPerGather: options.analyticsParallelWorkers,
    backendPriority: analyticsBackendPriority(databaseUrl, options.analyticsNice, 'strata-analytics', options.defaultHost),
  });
  // Expensive reads may be cancelled by their caller (store/cancel-scope.ts: a SQL client's cancel request).
  const analytics = new Kysely<DatabaseSchema>({
    dialect: tracedDialect(cancellableDialect(new PostgresDialect({ pool: analyticsPool })), { pool: 'analytics', sqlText }),
  });
  const probePool = createPostgresPool(databaseUrl, {
    poolSize: 1,
    statementTimeoutMs: PROBE_TIMEOUT_MS,
    connectionTimeoutMs: PROBE_TIMEOUT_MS,
    applicationName: 'strata-probe',
  });
  const probe = new Kysely<DatabaseSchema>({ dialect: tracedDialect(new PostgresDialect({ pool: probePool }), { pool: 'probe', sqlText }) });
  const pools: Partial<Record<PoolUsage['pool'], typeof pool>> = { main: pool, analytics: analyticsPool, probe: probePool };
  const read = options.readDatabaseUrl ? await openReplica(options.readDatabaseUrl, probePool, options) : undefined;
  if (read) Object.assign(pools, read.pools);
  const { copyCsvToPostgres } = await import('./postgres-copy.ts');
  const changes = createPostgresChangeFeed(() => listenerClient(databaseUrl), options.changeFeed);
  const prepare =
    (target: typeof pool, label: 'main' | 'replica') =>
    async <R>(name: string, text: string, values: readonly unknown[]) => {
      const run = () => target.query({ name, text, values: [...values] });
      return (await traceStatement(statementKind(text), text, { pool: label, sqlText, summary: name }, run)).rows as R[];
    };
  const prepared = prepare(pool, 'main');
  const preparedReplica = read ? prepare(read.pools.replica, 'replica') : prepared;
  return {
    db,
    analytics,
    reads: () => (read?.monitor.current().serving ? read.analytics : analytics),
    replica: read?.monitor,
    probe,
    engine: 'postgres',
    changes,
    poolUsage: () =>
      (Object.entries(pools) as [PoolUsage['pool'], typeof pool][]).map(([name, p]) => ({
        pool: name,
        total: p.totalCount,
        idle: p.idleCount,
        waiting: p.waitingCount,
      })),
    prepared,
    preparedRead: (name, text, values) => (read?.monitor.current().serving ? preparedReplica(name, text, values) : prepared(name, text, values)),
    copyCsv: (table, columns, csv) => copyCsvToPostgres(pool, table, columns, csv),
    close: async () => {
      await changes.close();
      read?.monitor.close();
      await Promise.all([
        db.destroy(),
        analytics.destroy(),
        probe.destroy(),
        read?.analytics.destroy(),
        read?.pools.replica.end(),
        read?.pools.replica_probe.end(),
      ]);
    },
  };
}

/**
 * The pools of a read replica (profile reads, expensive reads, the lag probe) and the
 * monitor of its lag, measured against the primary's probe pool.
 */
async function openReplica(url: string, primaryProbe: ReturnType<typeof createPostgresPool>, options: DatabaseOptions) {
  const sqlText = options.traceSqlText ?? false;
  const replica = createPostgresPool(url, { ...options, applicationName: 'strata-replica' });
  const replicaAnalytics = createPostgresPool(url, {
    ...options,
    poolSize: options.analyticsPoolSize ?? 4,
    applicationName: 'strata-replica-analytics',
    workMem: ANALYTICS_WORK_MEM,
    parallelWorkersPerGather: options.analyticsParallelWorkers,
    backendPriority: analyticsBackendPriority(url, options.analyticsNice, 'strata-replica-analytics', options.defaultHost),
  });
  const replicaProbe = createPostgresPool(url, {
    poolSize: 1,
    statementTimeoutMs: PROBE_TIMEOUT_MS,
    connectionTimeoutMs: PROBE_TIMEOUT_MS,
    applicationName: 'strata-replica-probe',
  });
  const analytics = new Kysely<DatabaseSchema>({
    dialect: tracedDialect(cancellableDialect(new PostgresDialect({ pool: replicaAnalytics })), { pool: 'replica_analytics', sqlText }),
  });
  const monitor = await startReplicaMonitor(primaryProbe, replicaProbe, {
    maxLagSeconds: options.replicaMaxLagSeconds ?? 30,
    intervalMs: options.replicaCheckIntervalMs,
  });
  return { analytics, monitor, pools: { replica, replica_analytics: replicaAnalytics, replica_probe: replicaProbe } };
}

/** Connect and statement timeout of the health-probe connection. */
const PROBE_TIMEOUT_MS = 3_000;

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  const parts: string[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return parts.join('');
}
