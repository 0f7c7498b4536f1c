import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Catalog, Model } from '../modeling/catalog/types.ts';
import { indexCatalog, type CatalogIndex } from '../modeling/catalog/catalog-index.ts';
import type { ConcreteRollup } from '../modeling/catalog/rollups.ts';
import { ROLLUP_SCHEMA } from '../modeling/catalog/rollups.ts';
import { subjectKey } from '../modeling/privacy/contributor-catalog.ts';
import { rollupBuild, type RollupBuild } from '../modeling/plan/rollup-refresh.ts';
import { SUBJECT_KEY_COLUMN, sharedRowsSql, type Reaggregation } from '../modeling/plan/rollup-share.ts';
import type { SqlDialect } from '../modeling/sql/dialect.ts';
import { touchMeets } from '../store/rollup-marks.ts';

/**
 * Per-customer tables of the rollups sliced by customer dimensions (issue 20). A shared
 * computation (`modeling/plan/rollup-share.ts`) groups a period's facts by the customer
 * first: its rows, one per customer (and one for the rows without a known customer), are
 * kept in `rollups.c_<hash>` (partitioned like the rollups) before they are collapsed to the
 * combinations of the dimensions. When a period is stale only because ingestion touched
 * some customers (`rollups.touches` the period's snapshot did not see), the refresh
 * recomputes exactly those customers' rows, by the same plan over facts restricted to them
 * (their events, transactions and registration; each through its customer index), replaces
 * them, and collapses the table again: a day of events reads that day's customers' month,
 * not the month. This is exact because every value such a computation stores adds up over
 * customers (the condition of sharing) and each customer's row reads only that customer's
 * facts: distinct counts of the customer, conversions whose entity is the customer (the
 * first-ever probe included), sums and counts. Rows whose customer is unknown (anonymous
 * events, a customer id not in the customers table) form the row without a key; touching
 * one recomputes that row from all of them. Anything else (a bulk load, a reseed, a tag
 * snapshot, a period never stored) recomputes the whole period and stores it.
 */
export interface SubjectStore {
  /** The table (in `rollups`). */
  readonly table: string;
  readonly build: RollupBuild;
  readonly definitionHash: string;
  /** The subject's table and key: touched keys it does not hold belong to the row without a key. */
  readonly subjectTable: string;
  readonly subjectKey: string;
  /** Whether the subject's key is a string (touches store keys as text). */
  readonly keyIsText: boolean;
  /** Each fact model read and its column holding the subject's key. */
  readonly facts: ReadonlyMap<string, string>;
}

/**
 * The per-customer table of a shared computation, or undefined when its rows are not kept per
 * customer: stored at a finer grain than its partitions (AUM by day: a row per customer and
 * day, 30 M a month at 1,000,000 customers, for facts ingestion never touches), no
 * single-column key, a fact without the key, a subject that is not a table.
 */
export function subjectStore(index: CatalogIndex, shared: ConcreteRollup, subject: string, dialect?: SqlDialect): SubjectStore | undefined {
  if (!shared.dimensionColumns.includes(SUBJECT_KEY_COLUMN) || shared.timeGrain !== shared.partitionGrain) return undefined;
  const subjectModel = index.models.get(subject);
  if (!subjectModel || !('table' in subjectModel.source) || subjectModel.primaryKey.length !== 1) return undefined;
  const build = rollupBuild(index, shared, dialect);
  const facts = new Map<string, string>();
  for (const { model } of build.models) {
    const key = subjectKey(index.model(model), subjectModel);
    if (!key || !/^[a-z_][a-z0-9_]*$/.test(key)) return undefined;
    facts.set(model, key);
  }
  const definitionHash = createHash('sha256')
    .update(
      JSON.stringify({
        rollup: shared,
        columns: build.columns,
        models: index.catalog.models.filter((m) => facts.has(m.name) || m.name === subject),
        metrics: shared.leaves.map((l) => index.metrics.get(l.metric)),
      }),
    )
    .digest('hex')
    .slice(0, 24);
  return {
    table: `c_${definitionHash}`,
    build,
    definitionHash,
    subjectTable: subjectModel.source.table,
    subjectKey: subjectModel.primaryKey[0] as string,
    keyIsText: build.columns.find((c) => c.name === SUBJECT_KEY_COLUMN)?.type === 'string',
    facts,
  };
}

/** The temp tables of the customers a period recomputes (known keys only). */
const KEYS = 'rollup_touched_keys';
const TOUCHED = 'rollup_touched';

export interface StoreOutcome {
  /** `incremental`: only touched customers were recomputed (how many: `customers`); `full`: the whole period. */
  readonly mode: 'incremental' | 'full';
  readonly customers: number;
}

/**
 * Brings the period `[start, end)` of the per-customer table up to date in transaction `trx`
 * (recomputing touched customers, or the whole period), then fills `into` (a transaction-local
 * table) with its rows collapsed to the combinations of the members' dimensions.
 */
export async function refreshSubjectPeriod(
  trx: Kysely<any>,
  index: CatalogIndex,
  store: SubjectStore,
  members: readonly ConcreteRollup[],
  period: { start: string; end: string },
  reaggregations: ReadonlyMap<string, Reaggregation>,
  into: string,
  dialect?: SqlDialect,
): Promise<StoreOutcome> {
  const table = sql.id(ROLLUP_SCHEMA, store.table);
  await ensureStore(trx, store, members, index.catalog);
  const child = sql.id(ROLLUP_SCHEMA, `${store.table}__p${period.start.replaceAll('-', '')}`);
  await sql`CREATE TABLE IF NOT EXISTS ${child} PARTITION OF ${table} FOR VALUES FROM (${sql.lit(period.start)}) TO (${sql.lit(period.end)})`.execute(trx);
  // Read before computing: a touch committed later is recomputed by the next refresh.
  const snapshot = (await sql<{ s: string }>`SELECT CAST(pg_current_snapshot() AS text) AS s`.execute(trx)).rows[0]?.s as string;
  const stored = await sql<{ s: string }>`SELECT CAST(snapshot AS text) AS s FROM rollups.subject_periods
    WHERE store = ${store.table} AND period_start = CAST(${period.start} AS date)`.execute(trx);
  const range = { from: period.start, to: period.end };
  let outcome: StoreOutcome = { mode: 'full', customers: 0 };
  const seen = stored.rows[0]?.s;
  if (seen !== undefined) {
    await sql`CREATE TEMP TABLE ${sql.id(TOUCHED)} ON COMMIT DROP AS
      SELECT DISTINCT t.subject_key, t.everyone FROM rollups.touches t JOIN rollups.subject_stores ss ON ss.store = ${store.table}
      WHERE ${touchMeets(sql`CAST(${period.start} AS date)`, sql`CAST(${period.end} AS date)`)}
        AND NOT pg_visible_in_snapshot(t.xid, CAST(${seen} AS pg_snapshot))`.execute(trx);
    // A text key is compared as stored (through the subject's primary key index); another type as text.
    const key = store.keyIsText ? sql`s.${sql.id(store.subjectKey)}` : sql`CAST(s.${sql.id(store.subjectKey)} AS text)`;
    const everyone = await sql<{ e: boolean; unknown: boolean }>`SELECT
      EXISTS (SELECT 1 FROM ${sql.id(TOUCHED)} WHERE everyone) AS e,
      EXISTS (SELECT 1 FROM ${sql.id(TOUCHED)} t WHERE NOT t.everyone AND (t.subject_key IS NULL
        OR NOT EXISTS (SELECT 1 FROM ${sql.table(store.subjectTable)} s WHERE ${key} = t.subject_key))) AS unknown`.execute(trx);
    if (!everyone.rows[0]?.e) {
      const unknown = everyone.rows[0]?.unknown === true;
      await sql`CREATE TEMP TABLE ${sql.id(KEYS)} ON COMMIT DROP AS SELECT s.${sql.id(store.subjectKey)} AS k FROM ${sql.table(store.subjectTable)} s
        WHERE ${key} IN (SELECT subject_key FROM ${sql.id(TOUCHED)} WHERE NOT everyone)`.execute(trx);
      await sql`ANALYZE ${sql.id(KEYS)}`.execute(trx);
      const customers = Number((await sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql.id(KEYS)}`.execute(trx)).rows[0]?.n ?? 0);
      await sql`DELETE FROM ${child} WHERE ${sql.id(SUBJECT_KEY_COLUMN)} IN (SELECT k FROM ${sql.id(KEYS)})${
        unknown ? sql` OR ${sql.id(SUBJECT_KEY_COLUMN)} IS NULL` : sql``
      }`.execute(trx);
      if (customers > 0 || unknown) {
        const restricted = rollupBuild(restrictedIndex(index, store, unknown), store.build.rollup, dialect);
        await sql`INSERT INTO ${child} ${restricted.statement(range)}`.execute(trx);
      }
      outcome = { mode: 'incremental', customers: customers + (unknown ? 1 : 0) };
    }
  }
  if (outcome.mode === 'full') {
    await sql`TRUNCATE ${child}`.execute(trx);
    await sql`INSERT INTO ${child} ${store.build.statement(range)}`.execute(trx);
  }
  await sql`INSERT INTO rollups.subject_periods (store, period_start, period_end, snapshot)
    VALUES (${store.table}, CAST(${period.start} AS date), CAST(${period.end} AS date), CAST(${snapshot} AS pg_snapshot))
    ON CONFLICT (store, period_start) DO UPDATE SET snapshot = EXCLUDED.snapshot, period_end = EXCLUDED.period_end`.execute(trx);
  const rows = sql`SELECT * FROM ${child}`;
  await sql`CREATE TEMP TABLE ${sql.id(into)} ON COMMIT DROP AS ${sharedRowsSql(store.build.rollup, rows, reaggregations)}`.execute(trx);
  return outcome;
}

/** Creates the per-customer table and its record; drops the tables of other groupings of the same rollups (each rollup is kept in one). */
async function ensureStore(trx: Kysely<any>, store: SubjectStore, members: readonly ConcreteRollup[], catalog: Catalog): Promise<void> {
  const names = members.map((m) => m.name).sort();
  const known = await sql<{ store: string }>`SELECT store FROM rollups.subject_stores WHERE store = ${store.table}`.execute(trx);
  if (known.rows.length > 0) return;
  const others = await sql<{ store: string }>`SELECT store FROM rollups.subject_stores WHERE members && CAST(${names} AS text[])`.execute(trx);
  for (const other of others.rows) {
    await sql`DROP TABLE IF EXISTS ${sql.id(ROLLUP_SCHEMA, other.store)}`.execute(trx);
    await sql`DELETE FROM rollups.subject_stores WHERE store = ${other.store}`.execute(trx);
  }
  const table = sql.id(ROLLUP_SCHEMA, store.table);
  const columns = store.build.columns.map(
    (c) => sql`${sql.id(c.name)} ${sql.raw(c.type === 'string' ? 'text' : c.type === 'number' ? 'numeric' : c.type === 'time' ? 'timestamp' : c.type)}`,
  );
  await sql`DROP TABLE IF EXISTS ${table}`.execute(trx);
  await sql`CREATE TABLE ${table} (${sql.join(columns)}) PARTITION BY RANGE (period)`.execute(trx);
  await sql`CREATE INDEX ${sql.id(`${store.table}_key_idx`)} ON ${table} (${sql.id(SUBJECT_KEY_COLUMN)})`.execute(trx);
  const models = store.build.models.map((m) => catalog.models.find((x) => x.name === m.model));
  const sources = models.flatMap((m) => (m && 'table' in m.source ? [m.source.table] : []));
  const subject = catalog.models.find((m) => 'table' in m.source && m.source.table === store.subjectTable);
  if (subject && !sources.includes(store.subjectTable)) sources.push(store.subjectTable);
  await sql`INSERT INTO rollups.subject_stores (store, definition_hash, members, sources, time_zone, lookback, reaches_later, reads_tags)
    VALUES (${store.table}, ${store.definitionHash}, CAST(${names} AS text[]), CAST(${sources} AS text[]), ${models[0]?.timeZone ?? 'UTC'},
      CAST(${store.build.lookback} AS interval), ${store.build.reachesLater === true}, ${store.build.rollup.dimensions.some((d) => d.includes('.tag.'))})`.execute(
    trx,
  );
}

/**
 * The catalog whose fact models (and the subject) read only the touched customers' rows
 * (`rollup_touched_keys`), and with `unknown` also every row without a known customer (the
 * row without a key is recomputed from all of them).
 */
function restrictedIndex(index: CatalogIndex, store: SubjectStore, unknown: boolean): CatalogIndex {
  const restrict = (model: Model, key: string, isSubject: boolean): Model => {
    const from = 'table' in model.source ? model.source.table : `(${model.source.sql}) AS restricted_source`;
    const orphans =
      unknown && !isSubject ? ` OR r.${key} IS NULL OR NOT EXISTS (SELECT 1 FROM ${store.subjectTable} s WHERE s.${store.subjectKey} = r.${key})` : '';
    return { ...model, source: { sql: `SELECT * FROM ${from} AS r WHERE r.${key} IN (SELECT k FROM ${KEYS})${orphans}` } };
  };
  const catalog: Catalog = {
    ...index.catalog,
    models: index.catalog.models.map((m) => {
      const key = store.facts.get(m.name);
      if ('table' in m.source && m.source.table === store.subjectTable) return restrict(m, store.subjectKey, true);
      return key ? restrict(m, key, false) : m;
    }),
  };
  return indexCatalog(catalog);
}

/** Deletes the touches every stored per-customer period has seen (or that meet none of them). */
export async function pruneTouches(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM rollups.touches t WHERE NOT EXISTS (
    SELECT 1 FROM rollups.subject_periods sp JOIN rollups.subject_stores ss ON ss.store = sp.store
    WHERE NOT pg_visible_in_snapshot(t.xid, sp.snapshot) AND ${touchMeets(sql`sp.period_start`, sql`sp.period_end`)})`.execute(db);
}
