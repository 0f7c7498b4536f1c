import { createHash } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Catalog } from '../modeling/catalog/types.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { concreteRollups, ROLLUP_SCHEMA, type ConcreteRollup } from '../modeling/catalog/rollups.ts';
import { withContributorCounts } from '../modeling/privacy/contributor-catalog.ts';
import { rollupBuild, type RollupBuild } from '../modeling/plan/rollup-refresh.ts';
import { derivedRowsSql, leafReaggregations, shareGroups, sharedRollup, sharedRowsSql, shareKey, type Reaggregation } from '../modeling/plan/rollup-share.ts';
import { pruneTouches, refreshSubjectPeriod, subjectStore, type SubjectStore } from './rollup-subject-store.ts';
import { timeBoundsSql } from '../modeling/sql/rollup-sql.ts';
import { nextPeriodStart, periodStart } from '../modeling/sql/time.ts';
import type { RollupFreshnessCheck } from '../modeling/semantic-layer.ts';
import type { SqlDialect } from '../modeling/sql/dialect.ts';

/** Advisory lock key of the refresh worker: one refresh runs per cluster. */
const REFRESH_LOCK = 0x5354_5255; // 'STRU'

export interface RefreshOutcome {
  /** False when another process holds the refresh lock (nothing was done). */
  readonly ran: boolean;
  readonly rollups: number;
  /** Partitions whose rows were recomputed. */
  readonly partitions: number;
  readonly rebuilt: readonly string[];
}

export interface RefreshOptions {
  /** The subject model (small-cell contributor counts are stored beside the values). */
  readonly subject?: string;
  /** Only these rollups (names as stored). */
  readonly only?: readonly string[];
  /** Only the stale partitions ending after this day (`YYYY-MM-DD`): recent periods first; older ones stay stale (answered raw) until a refresh without it. */
  readonly since?: string;
  /** `statement_timeout` of each refresh statement (PostgreSQL), 0 for none. */
  readonly statementTimeoutMs?: number;
  readonly postgres?: boolean;
  /** Checked between partitions: true stops the refresh there (a server shutting down). */
  readonly stopped?: () => boolean;
  /** The SQL dialect of the engine (Citus gets uncorrelated shapes); default PostgreSQL. */
  readonly dialect?: SqlDialect;
  /**
   * `work_mem` of each refresh transaction (PostgreSQL), default 256MB: a partition's distinct
   * counts sort a month of facts, which spills to disk at the server's default (4MB).
   */
  readonly workMem?: string;
  /**
   * Called after each partition is recomputed (progress of a long build); `shared`: partitions computed together (their time is the whole unit's);
   * `customers`: how many customers' rows were recomputed when only those ingestion touched were (absent: the whole period).
   */
  readonly onPartition?: (done: { rollup: string; period: string; ms: number; shared: number; customers?: number }) => void;
  /** False recomputes every partition by its own statement (default true: rollups sharing a computation share it). */
  readonly shareScans?: boolean;
  /** At most this many dimensions in one shared computation (default 8, 4 at day grain). */
  readonly sharedDimensions?: number;
}

/** The hash of what a rollup's rows mean: a changed definition is answered raw until rebuilt. */
export function rollupDefinitionHash(catalog: Catalog, build: RollupBuild): string {
  const metrics = build.rollup.leaves.map((l) => catalog.metrics.find((m) => m.name === l.metric) ?? l.metric);
  const models = catalog.models.filter((m) => build.models.some((b) => b.model === m.name) || build.rollup.dimensions.some((d) => d.startsWith(`${m.name}.`)));
  const text = JSON.stringify({ rollup: build.rollup, metrics, models, columns: build.columns, ...(build.definition ? { definition: build.definition } : {}) });
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/**
 * Brings every rollup of the catalog up to date, under a cluster-wide advisory lock (a
 * second caller returns `ran: false`): creates or rebuilds a rollup's table when its
 * definition changed (partitioned by its partition grain), adds partitions for new periods
 * of data, and recomputes only the stale partitions, each in its own transaction (delete
 * and insert its rows, then record the version read before computing, so a change
 * committed meanwhile stays stale). Stale partitions of one period of rollups that share a
 * computation (`modeling/plan/rollup-share.ts`: the same leaves by dimensions of the subject)
 * are recomputed together from one statement over the facts, in one transaction.
 */
export async function refreshRollups(db: Kysely<any>, catalog: Catalog, options: RefreshOptions = {}): Promise<RefreshOutcome> {
  const all = concreteRollups(catalog).filter((r) => !options.only || options.only.includes(r.name));
  if (all.length === 0) return { ran: true, rollups: 0, partitions: 0, rebuilt: [] };
  const counted = indexCatalog(options.subject ? withContributorCounts(catalog, options.subject).catalog : catalog);
  return db.connection().execute(async (conn) => {
    const locked = await sql<{ locked: boolean }>`SELECT pg_try_advisory_lock(${REFRESH_LOCK}) AS locked`.execute(conn);
    if (!locked.rows[0]?.locked) return { ran: false, rollups: 0, partitions: 0, rebuilt: [] };
    try {
      const rebuilt: string[] = [];
      const stale: StalePartition[] = [];
      for (const rollup of all) {
        if (options.stopped?.()) break;
        const build = rollupBuild(counted, rollup.name, options.dialect);
        const hash = rollupDefinitionHash(catalog, build);
        if (await ensureTable(conn, build, hash, catalog)) rebuilt.push(rollup.name);
        stale.push(...(await preparePartitions(conn, counted, build, options.since)));
      }
      let partitions = 0;
      for (const unit of refreshUnits(counted, stale, options)) {
        if (options.stopped?.()) break;
        await recompute(conn, counted, unit, options);
        partitions += unit.length;
      }
      await pruneTouches(conn);
      return { ran: true, rollups: all.length, partitions, rebuilt };
    } finally {
      await sql`SELECT pg_advisory_unlock(${REFRESH_LOCK})`.execute(conn);
    }
  });
}

async function ensureTable(db: Kysely<any>, build: RollupBuild, hash: string, catalog: Catalog): Promise<boolean> {
  const { rollup } = build;
  const state = await sql<{ definition_hash: string }>`SELECT definition_hash FROM rollups.state WHERE rollup = ${rollup.name}`.execute(db);
  if (state.rows[0]?.definition_hash === hash) return false;
  const table = sql.id(ROLLUP_SCHEMA, rollup.table);
  const columns = build.columns.map(
    (c) => sql`${sql.id(c.name)} ${sql.raw(c.type === 'string' ? 'text' : c.type === 'number' ? 'numeric' : c.type === 'time' ? 'timestamp' : c.type)}`,
  );
  const models = build.models.map((m) => catalog.models.find((x) => x.name === m.model));
  const sources = models.flatMap((m) => (m && 'table' in m.source ? [m.source.table] : []));
  const zone = models[0]?.timeZone ?? 'UTC';
  await db.transaction().execute(async (trx) => {
    await sql`DELETE FROM rollups.state WHERE rollup = ${rollup.name}`.execute(trx);
    await sql`DROP TABLE IF EXISTS ${table}`.execute(trx);
    await sql`CREATE TABLE ${table} (${sql.join(columns)}) PARTITION BY RANGE (period)`.execute(trx);
    await sql`INSERT INTO rollups.state (rollup, definition_hash, table_name, sources, time_zone, lookback, reads_tags)
      VALUES (${rollup.name}, ${hash}, ${rollup.table}, ${sources}, ${zone}, CAST(${build.lookback} AS interval), ${rollup.dimensions.some((d) => d.includes('.tag.'))})`.execute(
      trx,
    );
  });
  return true;
}

/** A stale partition of a rollup, with the version read before it is computed. */
interface StalePartition {
  readonly build: RollupBuild;
  readonly start: string;
  readonly end: string;
  readonly version: string;
}

/** Adds the partitions new periods of data need, and lists the rollup's stale partitions (versions read before computing). */
async function preparePartitions(db: Kysely<any>, index: ReturnType<typeof indexCatalog>, build: RollupBuild, since?: string): Promise<StalePartition[]> {
  const { rollup } = build;
  // Periods of data: the partitions must cover every row's time (read the version first).
  const state = await sql<{ version: string }>`SELECT version FROM rollups.state WHERE rollup = ${rollup.name}`.execute(db);
  const stateVersion = state.rows[0]?.version ?? '0';
  let lo: string | undefined;
  let hi: string | undefined;
  for (const m of build.models) {
    const bounds = (await timeBoundsSql(index, m.model, m.timeDimension).execute(db)).rows[0];
    if (bounds?.lo && (!lo || bounds.lo < lo)) lo = bounds.lo;
    if (bounds?.hi && (!hi || bounds.hi > hi)) hi = bounds.hi;
  }
  const grain = rollup.partitionGrain;
  if (lo && hi) {
    for (let start = periodStart(lo, grain); start <= hi; start = nextPeriodStart(start, grain)) {
      const end = nextPeriodStart(start, grain);
      const child = sql.id(ROLLUP_SCHEMA, `${rollup.table}__p${start.replaceAll('-', '')}`);
      const inserted =
        await sql`INSERT INTO rollups.partitions (rollup, period_start, period_end) VALUES (${rollup.name}, CAST(${start} AS date), CAST(${end} AS date))
        ON CONFLICT (rollup, period_start) DO NOTHING RETURNING 1`.execute(db);
      if (inserted.rows.length > 0)
        await sql`CREATE TABLE IF NOT EXISTS ${child} PARTITION OF ${sql.id(ROLLUP_SCHEMA, rollup.table)} FOR VALUES FROM (${sql.lit(start)}) TO (${sql.lit(end)})`.execute(
          db,
        );
    }
  }
  await sql`UPDATE rollups.state SET reaches_later = ${build.reachesLater === true}, covered_from = (SELECT MIN(period_start) FROM rollups.partitions WHERE rollup = ${rollup.name}),
    covered_to = (SELECT MAX(period_end) FROM rollups.partitions WHERE rollup = ${rollup.name}),
    refreshed_version = GREATEST(refreshed_version, ${stateVersion}) WHERE rollup = ${rollup.name}`.execute(db);
  const stale = await sql<{ period_start: string; period_end: string; version: string }>`SELECT to_char(period_start, 'YYYY-MM-DD') AS period_start,
    to_char(period_end, 'YYYY-MM-DD') AS period_end, version FROM rollups.partitions WHERE rollup = ${rollup.name} AND version > refreshed_version
    ${since ? sql`AND period_end > CAST(${since} AS date)` : sql``} ORDER BY period_start`.execute(db);
  return stale.rows.map((p) => ({ build, start: p.period_start, end: p.period_end, version: p.version }));
}

/**
 * The stale partitions cut into units recomputed together: the partitions of one period of
 * rollups sharing a computation (in groups of at most `sharedDimensions` dimensions: 8, or
 * 4 at day grain), or one partition alone.
 */
function refreshUnits(index: ReturnType<typeof indexCatalog>, stale: readonly StalePartition[], options: RefreshOptions): StalePartition[][] {
  const byKey = new Map<string, StalePartition[]>();
  stale.forEach((p, i) => {
    const share = options.shareScans === false ? undefined : shareKey(index, p.build.rollup, options.subject);
    const key = share ? `${share}|${p.start}` : String(i);
    byKey.set(key, [...(byKey.get(key) ?? []), p]);
  });
  return [...byKey.values()].flatMap((parts) => {
    if (parts.length === 1) return [parts];
    const grain = parts[0]?.build.rollup.timeGrain;
    const groups = shareGroups(
      parts.map((p) => p.build.rollup),
      options.sharedDimensions ?? (grain === 'DAY' ? 4 : 8),
    );
    return groups.map((g) => parts.filter((p) => g.includes(p.build.rollup)));
  });
}

/** Recomputes one unit in one transaction: a partition by its own statement, or several from one shared intermediate. */
async function recompute(db: Kysely<any>, index: ReturnType<typeof indexCatalog>, unit: readonly StalePartition[], options: RefreshOptions): Promise<void> {
  const [first] = unit;
  if (!first) return;
  const range = { from: first.start, to: first.end };
  const started = performance.now();
  let customers: number | undefined;
  await db.transaction().execute(async (trx) => {
    if (options.postgres && options.statementTimeoutMs !== undefined)
      await sql`SELECT set_config('statement_timeout', ${String(options.statementTimeoutMs)}, true)`.execute(trx);
    if (options.postgres) await sql`SELECT set_config('work_mem', ${options.workMem ?? '256MB'}, true)`.execute(trx);
    // Rollups sliced by customer dimensions keep their per-customer rows: a period touched by a few customers recomputes those.
    const kept =
      options.subject && options.shareScans !== false && shareKey(index, first.build.rollup, options.subject)
        ? keptStore(
            index,
            unit.map((p) => p.build.rollup),
            options.subject,
            options.dialect,
          )
        : undefined;
    if (kept && options.subject) {
      const outcome = await refreshSubjectPeriod(
        trx,
        index,
        kept.store,
        unit.map((p) => p.build.rollup),
        { start: first.start, end: first.end },
        kept.reaggregations,
        SHARED,
        options.dialect,
      );
      if (outcome.mode === 'incremental') customers = outcome.customers;
      for (const p of unit) await replacePartition(trx, p, derivedRowsSql(p.build.rollup, SHARED, kept.reaggregations));
      return;
    }
    const shared =
      unit.length > 1
        ? sharedRollup(
            unit.map((p) => p.build.rollup),
            index,
            options.subject,
          )
        : undefined;
    const reaggregations = shared && options.subject ? leafReaggregations(index, shared, options.subject) : undefined;
    if (shared && reaggregations) {
      const statement = rollupBuild(index, shared, options.dialect).statement(range);
      await sql`CREATE TEMP TABLE ${sql.id(SHARED)} ON COMMIT DROP AS ${sharedRowsSql(shared, statement, reaggregations)}`.execute(trx);
    }
    for (const p of unit)
      await replacePartition(
        trx,
        p,
        reaggregations ? derivedRowsSql(p.build.rollup, SHARED, reaggregations) : sql`SELECT * FROM (${p.build.statement(range)}) AS computed`,
      );
  });
  const ms = performance.now() - started;
  for (const p of unit)
    options.onPartition?.({ rollup: p.build.rollup.name, period: p.start, ms, shared: unit.length, ...(customers !== undefined ? { customers } : {}) });
}

/** Replaces a partition's rows with `rows` and records the version they were computed at. */
async function replacePartition(trx: Kysely<any>, p: StalePartition, rows: RawBuilder<unknown>): Promise<void> {
  const { rollup } = p.build;
  const table = sql.id(ROLLUP_SCHEMA, rollup.table);
  const names = sql.join(p.build.columns.map((c) => sql.id(c.name)));
  await sql`DELETE FROM ${table} WHERE period >= CAST(${p.start} AS date) AND period < CAST(${p.end} AS date)`.execute(trx);
  await sql`INSERT INTO ${table} (${names}) ${rows}`.execute(trx);
  await sql`UPDATE rollups.partitions SET refreshed_version = GREATEST(refreshed_version, ${p.version}), refreshed_at = now()
    WHERE rollup = ${rollup.name} AND period_start = CAST(${p.start} AS date)`.execute(trx);
}

/** The per-customer table a unit of rollups sharing a computation is kept in, with how its values re-aggregate; undefined when it cannot be kept per customer. */
function keptStore(
  index: ReturnType<typeof indexCatalog>,
  members: readonly ConcreteRollup[],
  subject: string,
  dialect: SqlDialect | undefined,
): { store: SubjectStore; reaggregations: Map<string, Reaggregation> } | undefined {
  const shared = sharedRollup(members, index, subject);
  const reaggregations = leafReaggregations(index, shared, subject);
  const store = reaggregations ? subjectStore(index, shared, subject, dialect) : undefined;
  return store && reaggregations ? { store, reaggregations } : undefined;
}

/** The transaction-local table a shared computation's rows are held in. */
const SHARED = 'rollup_shared_rows';

/** The refresh worker of a server process: every `everySeconds`, one refresh (skipped while the previous runs); the returned function stops it after the partition in progress. */
export function startRollupWorker(
  db: Kysely<any>,
  catalog: () => Promise<Catalog>,
  options: RefreshOptions & { onError: (error: unknown) => void; onRefresh?: (outcome: RefreshOutcome) => void },
  everySeconds: number,
): () => Promise<void> {
  const every = Math.max(1, everySeconds);
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let busy = false;
  const tick = () => {
    if (stopped || busy) return;
    busy = true;
    running = catalog()
      .then((c) => refreshRollups(db, c, { ...options, stopped: () => stopped }))
      .then((o) => options.onRefresh?.(o))
      .catch(options.onError)
      .finally(() => {
        busy = false;
      });
  };
  // The first refresh one interval after start: a short-lived process never starts one.
  const timer = setInterval(tick, every * 1000);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

const HASHES = new WeakMap<Catalog, Map<string, string>>();

/** Each rollup's current definition hash (what the stored rows must have been built from). */
function currentHash(catalog: Catalog, subject: string | undefined, name: string): string {
  let hashes = HASHES.get(catalog);
  if (!hashes) {
    hashes = new Map();
    HASHES.set(catalog, hashes);
  }
  let hash = hashes.get(name);
  if (!hash) {
    const counted = indexCatalog(subject ? withContributorCounts(catalog, subject).catalog : catalog);
    hash = rollupDefinitionHash(catalog, rollupBuild(counted, name));
    hashes.set(name, hash);
  }
  return hash;
}

/**
 * The check a semantic layer runs before a rollup answers: the rollup was built from the
 * current definition, its partitions cover every row (no row arrived outside them), and
 * the partitions of the periods read are fresh (or the policy serves stale ones, saying
 * so). `asOf` is the oldest refresh among the partitions read.
 */
export function rollupFreshnessCheck(catalog: Catalog, subject?: string): RollupFreshnessCheck {
  return async (db, read) => {
    const rollup = concreteRollups(catalog).find((r) => r.name === read.rollup);
    if (!rollup) return undefined;
    const overlap = [
      ...(read.range.from ? [sql`p.period_end > CAST(${read.range.from} AS date)`] : []),
      ...(read.range.to ? [sql`p.period_start < CAST(${read.range.to} AS date)`] : []),
    ];
    const where = overlap.length > 0 ? sql`AND ${sql.join(overlap, sql` AND `)}` : sql``;
    const { rows } = await sql<{ definition_hash: string; outside: boolean; as_of: Date | string | null; stale: string; unbuilt: string }>`
      SELECT s.definition_hash, s.version > s.refreshed_version AS outside,
        (SELECT MIN(p.refreshed_at) FROM rollups.partitions p WHERE p.rollup = s.rollup ${where}) AS as_of,
        (SELECT COUNT(*) FROM rollups.partitions p WHERE p.rollup = s.rollup AND p.version > p.refreshed_version ${where}) AS stale,
        (SELECT COUNT(*) FROM rollups.partitions p WHERE p.rollup = s.rollup AND p.refreshed_at IS NULL ${where}) AS unbuilt
      FROM rollups.state s WHERE s.rollup = ${rollup.name}`.execute(db);
    const state = rows[0];
    if (!state || state.definition_hash !== currentHash(catalog, subject, rollup.name) || Number(state.unbuilt) > 0) return undefined;
    const stale = state.outside || Number(state.stale) > 0;
    if (stale && rollup.declared.refresh.whenStale === 'raw') return undefined;
    const asOf = state.as_of ? new Date(state.as_of).toISOString() : new Date().toISOString();
    return { source: 'ROLLUP', rollup: rollup.name, asOf, stale };
  };
}
