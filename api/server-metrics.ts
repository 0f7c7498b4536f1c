import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolUsage } from '../store/database.ts';
import type { ReplicaLag } from '../store/replica.ts';
import type { TrackResult } from '../store/event-collector.ts';
import { logger } from '../store/logger.ts';
import type { RequestObservation } from './request-observation.ts';
import type { DecideStage } from '../services/decisions.ts';

/** What the metrics read when scraped. */
export interface MetricSources {
  /** Connections of the PostgreSQL pools (none on PGlite). */
  readonly poolUsage: () => readonly PoolUsage[];
  /** Expensive reads running and waiting in the analytics lane. */
  readonly analyticsLoad: () => { running: number; waiting: number };
  /** Materialization runs recorded in the database, by status. */
  readonly materializationRuns: () => Promise<Readonly<Record<string, number>>>;
  /** The read replica's last measured lag; undefined without a replica (the gauges are then absent). */
  readonly replicaLag?: () => ReplicaLag | undefined;
}

/** The server's Prometheus metrics; every label value comes from a bounded set (routes, classes, schema fields, codes). */
export interface ServerMetrics {
  /** Counts a finished request: latency by route, operation class, root field and status; error codes; rate limits. */
  observeRequest(observation: RequestObservation, status: number): void;
  /** Counts the outcome of an ingested event batch. */
  countEvents(result: TrackResult): void;
  /** Counts a recorded read of customers' personal data. */
  countPersonalDataRead(operation: string, customers: number): void;
  /** Times one wait of a decision (services/decisions.ts `observeStage`). */
  observeDecideStage(stage: DecideStage, seconds: number): void;
  /** The text exposition format, with the Node process metrics. */
  exposition(): Promise<string>;
  readonly contentType: string;
}

/** How long the materialization counts read from the database are reused between scrapes. */
const RUNS_CACHE_MS = 10_000;
const CODE = /^[A-Z][A-Z_]{0,39}$/;

let processRegistry: Registry | undefined;

/** The Node process metrics (CPU, memory, event loop lag, GC), collected once per process. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Creates the metrics of one app. Request latency is a histogram labelled by route,
 * operation class, GraphQL root field (`multiple` when an operation has several) and status;
 * client-chosen operation names are never labels.
 */
export function createServerMetrics(sources: MetricSources): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const duration = new Histogram({
    name: 'strata_http_request_duration_seconds',
    help: 'Time to answer a request, by route, operation class, GraphQL root field and HTTP status.',
    labelNames: ['route', 'operation_class', 'operation', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const durations = new Map<string, { observe(seconds: number): void }>();
  const errors = new Counter({ name: 'strata_graphql_errors_total', help: 'Errors in GraphQL answers, by code.', labelNames: ['code'] as const, registers });
  const rateLimited = new Counter({
    name: 'strata_rate_limited_requests_total',
    help: 'Requests refused with RATE_LIMITED (per-key rates, analytics capacity, failed authentications), by route and operation class.',
    labelNames: ['route', 'operation_class'] as const,
    registers,
  });
  const events = new Counter({
    name: 'strata_events_ingested_total',
    help: 'Behaviour events received, by outcome (accepted, duplicate, quarantined, rejected) and rejection code.',
    labelNames: ['outcome', 'code'] as const,
    registers,
  });
  for (const outcome of ['accepted', 'duplicate', 'quarantined']) events.inc({ outcome, code: '' }, 0);
  const personalReads = new Counter({
    name: 'strata_personal_data_reads_total',
    help: "Reads of customers' personal data recorded in the audit log, by operation.",
    labelNames: ['operation'] as const,
    registers,
  });
  const personalCustomers = new Counter({
    name: 'strata_personal_data_customers_read_total',
    help: 'Customers whose personal data was read, by operation.',
    labelNames: ['operation'] as const,
    registers,
  });
  const decideStage = new Histogram({
    name: 'strata_decide_stage_seconds',
    help: 'Time a decision waited for its profile and fatigue counters (profile_read) and for its impressions to commit (impression_write); the rest of a decide request is the HTTP and GraphQL path, authentication and the change feed.',
    labelNames: ['stage'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  const decideStages = { profile_read: decideStage.labels({ stage: 'profile_read' }), impression_write: decideStage.labels({ stage: 'impression_write' }) };
  defineGauges(registers, sources);

  return {
    contentType: registry.contentType,
    observeRequest(observation, status) {
      const route = observation.route;
      const operationClass = observation.operationClass ?? '';
      const fields = observation.rootFields ?? [];
      const operation = fields.length === 0 ? '' : fields.length === 1 ? (fields[0] as string) : 'multiple';
      // The child of a label set is kept: prom-client validates and hashes labels on every observe otherwise.
      const key = `${route}\u0000${operationClass}\u0000${operation}\u0000${status}`;
      let child = durations.get(key);
      if (!child) durations.set(key, (child = duration.labels({ route, operation_class: operationClass, operation, status: String(status) })));
      child.observe((performance.now() - observation.startedAt) / 1000);
      for (const code of observation.errorCodes) {
        if (route === '/graphql') errors.inc({ code: CODE.test(code) ? code : 'OTHER' });
        if (code === 'RATE_LIMITED') rateLimited.inc({ route, operation_class: operationClass });
      }
    },
    countEvents(result) {
      events.inc({ outcome: 'accepted', code: '' }, result.accepted);
      events.inc({ outcome: 'duplicate', code: '' }, result.duplicates);
      events.inc({ outcome: 'quarantined', code: '' }, result.quarantined);
      for (const rejected of result.rejected) events.inc({ outcome: 'rejected', code: rejected.code });
    },
    countPersonalDataRead(operation, customers) {
      personalReads.inc({ operation });
      personalCustomers.inc({ operation }, customers);
    },
    observeDecideStage(stage, seconds) {
      decideStages[stage].observe(seconds);
    },
    exposition: () => Registry.merge([processMetrics(), registry]).metrics(),
  };
}

/** Gauges read at scrape time: pool connections, the analytics lane, materialization runs. */
function defineGauges(registers: Registry[], sources: MetricSources): void {
  new Gauge({
    name: 'strata_db_pool_connections',
    help: 'PostgreSQL pool connections by pool (main, analytics, probe) and state (total, idle, waiting callers).',
    labelNames: ['pool', 'state'] as const,
    registers,
    collect() {
      for (const usage of sources.poolUsage()) {
        this.set({ pool: usage.pool, state: 'total' }, usage.total);
        this.set({ pool: usage.pool, state: 'idle' }, usage.idle);
        this.set({ pool: usage.pool, state: 'waiting' }, usage.waiting);
      }
    },
  });
  new Gauge({
    name: 'strata_analytics_lane_running',
    help: 'Expensive reads running in the analytics lane.',
    registers,
    collect() {
      this.set(sources.analyticsLoad().running);
    },
  });
  new Gauge({
    name: 'strata_analytics_lane_waiting',
    help: 'Expensive reads waiting for an analytics slot.',
    registers,
    collect() {
      this.set(sources.analyticsLoad().waiting);
    },
  });
  const replica = sources.replicaLag;
  if (replica?.()) {
    new Gauge({
      name: 'strata_replica_lag_seconds',
      help: 'Seconds the read replica is behind the primary (age of its last replayed commit while WAL is left to replay; 0 when caught up), as last measured; -1 when unknown.',
      registers,
      collect() {
        this.set(replica()?.lagSeconds ?? -1);
      },
    });
    new Gauge({
      name: 'strata_replica_lag_bytes',
      help: 'Bytes of WAL the read replica has not replayed yet, as last measured; -1 when unknown.',
      registers,
      collect() {
        this.set(replica()?.lagBytes ?? -1);
      },
    });
    new Gauge({
      name: 'strata_replica_serving',
      help: '1 while reads go to the read replica, 0 while they go back to the primary (replica down, not a standby, or lagging past STRATA_READ_MAX_LAG_SECONDS).',
      registers,
      collect() {
        this.set(replica()?.serving ? 1 : 0);
      },
    });
  }
  let runs: { at: number; counts: Readonly<Record<string, number>> } | undefined;
  new Gauge({
    name: 'strata_materialization_runs',
    help: 'Materialization runs recorded in the database (every instance and the CLI), by status; read at most every 10 s.',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      if (!runs || performance.now() - runs.at > RUNS_CACHE_MS) {
        try {
          runs = { at: performance.now(), counts: await sources.materializationRuns() };
        } catch (error) {
          logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'materialization runs not counted');
          return;
        }
      }
      for (const status of ['running', 'published', 'held', 'superseded', 'failed']) this.set({ status }, runs.counts[status] ?? 0);
    },
  });
}
