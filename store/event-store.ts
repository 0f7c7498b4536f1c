import { createHash } from 'node:crypto';
import { rollupMarksCtes } from './rollup-marks.ts';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { ValidEvent } from '../modeling/events/validate-event.ts';
import type { Database } from './database.ts';
import type { DatabaseSchema } from './schema.ts';
import { addMonths, ensureMonthlyPartitions, MONTHS_AHEAD, WEALTH_PARTITIONED_FACTS, type MonthlyPartitioning } from './partitions.ts';
import { protectEvents, protectQuarantined, type PersonalDataProtection, type QuarantinedEvent, type VaultRow } from './event-pii-protection.ts';

export type { QuarantinedEvent } from './event-pii-protection.ts';

export interface IngestOutcome {
  /** Events newly written to `wealth.app_events`. */
  readonly accepted: number;
  /** Undeclared events newly written to `strata.event_quarantine`. */
  readonly quarantined: number;
  /** Events whose `eventId` was already stored (or repeated within the batch): not written again. */
  readonly duplicates: number;
}

/**
 * Writes a batch of validated events to `wealth.app_events` (and undeclared ones to
 * `strata.event_quarantine`) and resolves once they are committed. One multi-row statement
 * per table; events first claim their id in `wealth.app_event_keys` (`ON CONFLICT (event_id)
 * DO NOTHING`, the key every monthly partition shares) and only those that claimed it are
 * written, so accepted and duplicate counts are exact even when two retries of one batch
 * race. The first write of an `eventId` wins; a later event with the same id and different
 * content (another time included) is a duplicate. The monthly partitions the batch needs are
 * created first when missing (`ensureEventPartitions`).
 *
 * Personal properties are stored as pseudonyms; with an encryption key their sealed copies
 * go to `strata.event_pii` in the same statement, for the events that statement inserted
 * only (a duplicate writes no second copy; a failing copy stores nothing of the batch).
 * `protection` is required as soon as an event carries personal properties or a
 * quarantined event carries properties.
 *
 * ```ts
 * const { accepted, duplicates } = await ingestEvents(database, [event], [], { pseudonymKey });
 * ```
 */
export async function ingestEvents(
  database: Database,
  events: readonly ValidEvent[],
  quarantine: readonly QuarantinedEvent[] = [],
  protection?: PersonalDataProtection,
  counting?: ImpressionCounting,
): Promise<IngestOutcome> {
  // Deduplicate first: the copy sealed must be the one of the event that wins.
  const { events: rows, vault } = protectEvents(uniqueSorted(events), protection);
  const held = uniqueSorted(quarantine).map((event) => protectQuarantined(event, protection));
  const write = async (db: Kysely<DatabaseSchema>, alone: boolean) => ({
    accepted: await insertEvents(db, alone ? database : undefined, rows, vault, counting),
    quarantined: await insertQuarantined(db, held),
  });
  // A single statement commits on its own; two must commit together.
  const written = rows.length > 0 && held.length > 0 ? await database.db.transaction().execute((trx) => write(trx, false)) : await write(database.db, true);
  return { ...written, duplicates: events.length + quarantine.length - written.accepted - written.quarantined };
}

/**
 * Keeps the decision layer's fatigue counters (`strata.placement_impression_counts`) with
 * the events: each newly inserted `placement_impression` of a known customer that names a
 * `content_id` adds one to its customer, placement, content and day (cut in `timeZone`, the
 * reporting time zone), in the statement that inserts it. A duplicate adds nothing, so a
 * retried decision or batch never counts twice. Counter rows are upserted in primary-key
 * order whatever plan groups them, so two statements counting the same customers wait for
 * each other instead of deadlocking.
 */
export interface ImpressionCounting {
  readonly timeZone: string;
  /** The impression event's name (`placement_impression`). */
  readonly eventName: string;
}

/**
 * First occurrence of each id, sorted by id: concurrent batches then take row locks in the
 * same order, so two overlapping retries wait for each other instead of deadlocking.
 */
function uniqueSorted<T extends { eventId: string }>(items: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(item.eventId)) seen.set(item.eventId, item);
  return [...seen.values()].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
}

/**
 * The whole batch travels as one JSON parameter: one native `JSON.stringify` instead of
 * escaping ten arrays in JavaScript. PostgreSQL reads it as `jsonb` and takes each field with
 * `->>` (each event's properties are already `jsonb`): unpacking 20 impressions costs 95-125 us
 * this way against 150-250 with `json_to_recordset`, which builds a hash of each object's keys
 * and parses the properties a second time.
 * Sealed copies ride in a second one and are inserted by a data-modifying CTE of the same
 * statement, only for the event ids the first insert returned. Outside a transaction
 * (`alone`: the statement commits on its own) it runs as a named prepared statement, one per
 * text (with or without sealed copies and counters): each connection parses and plans it
 * once instead of once per batch, the larger part of a small batch's cost (`decide`'s).
 * The text and its other parameters are compiled once per shape (`compiledInsert`); a batch
 * only fills in its JSON.
 */
async function insertEvents(
  db: Kysely<DatabaseSchema>,
  alone: Pick<Database, 'prepared'> | undefined,
  rows: readonly ValidEvent[],
  vault: readonly VaultRow[],
  counting: ImpressionCounting | undefined,
): Promise<number> {
  if (rows.length === 0) return 0;
  await ensureEventPartitions(db, rows);
  const counted = counting !== undefined && rows.some((r) => r.name === counting.eventName) ? counting : undefined;
  const insert = compiledInsert(db, vault.length > 0, counted);
  const parameters = [...insert.parameters];
  parameters[insert.rowsAt] = JSON.stringify(rows);
  if (insert.vaultAt >= 0) parameters[insert.vaultAt] = JSON.stringify(vault);
  let result: { inserted: number } | undefined;
  if (alone) [result] = await alone.prepared<{ inserted: number }>(insert.name, insert.sql, parameters);
  else [result] = (await db.executeQuery<{ inserted: number }>(CompiledQuery.raw(insert.sql, parameters))).rows;
  return result?.inserted ?? 0;
}

/** The insert statement of one shape: its text, its prepared statement's name, and its parameters with the batch's JSON left to fill in. */
interface CompiledInsert {
  readonly sql: string;
  readonly name: string;
  readonly parameters: readonly unknown[];
  /** Where the events' JSON goes in `parameters`. */
  readonly rowsAt: number;
  /** Where the sealed copies' JSON goes (-1: this shape has none). */
  readonly vaultAt: number;
}

/** Stands for a batch's JSON while a shape is compiled; found again among the compiled parameters. */
const ROWS_SLOT = Symbol('rows');
const VAULT_SLOT = Symbol('vault');

/** Per Kysely instance (its dialect compiles the text): the shapes compiled so far, by sealed copies and counting. */
const compiledInserts = new WeakMap<Kysely<DatabaseSchema>, Map<string, CompiledInsert>>();

/**
 * The insert of a batch of this shape, compiled once: building the statement with its
 * counters and rollup marks and compiling it (a few hundred nodes, then a 3 kB text to name)
 * was done for every batch, though only the batch's JSON changes.
 */
function compiledInsert(db: Kysely<DatabaseSchema>, sealed: boolean, counting: ImpressionCounting | undefined): CompiledInsert {
  let shapes = compiledInserts.get(db);
  if (!shapes) compiledInserts.set(db, (shapes = new Map()));
  const key = `${sealed}\u0000${counting ? `${counting.timeZone}\u0000${counting.eventName}` : ''}`;
  let insert = shapes.get(key);
  if (!insert) {
    const compiled = sql<{ inserted: number }>`
    with batch as materialized (
      select e->>'eventId' as "eventId", e->>'customerId' as "customerId", e->>'anonymousId' as "anonymousId", e->>'name' as name,
        (e->>'occurredAt')::timestamptz as "occurredAt", e->>'channel' as channel, e->>'page' as page, e->>'placementId' as "placementId",
        e->>'productId' as "productId", nullif(e->'properties', 'null'::jsonb) as properties
      from jsonb_array_elements(${ROWS_SLOT}::jsonb) as e),
    claimed as (
      insert into wealth.app_event_keys (event_id, occurred_at)
      select "eventId", "occurredAt" from batch
      on conflict (event_id) do nothing
      returning event_id),
    inserted as (
      insert into wealth.app_events
        (event_id, customer_id, anonymous_id, event_name, occurred_at, channel, page, placement_id, product_id, properties)
      select "eventId", "customerId", "anonymousId", name, "occurredAt", channel, page, "placementId", "productId", properties
      from batch where "eventId" in (select event_id from claimed)
      returning event_id, customer_id, placement_id, event_name, occurred_at, properties)${sealed ? insertVault() : sql``}${
        counting ? countImpressions(counting) : sql``
      }${rollupMarksCtes('inserted', 'wealth.app_events', 'occurred_at', 'customer_id')}
    select count(*)::int as inserted from inserted`.compile(db);
    insert = {
      sql: compiled.sql,
      name: statementName(compiled.sql),
      parameters: compiled.parameters,
      rowsAt: compiled.parameters.indexOf(ROWS_SLOT),
      vaultAt: compiled.parameters.indexOf(VAULT_SLOT),
    };
    shapes.set(key, insert);
  }
  return insert;
}

const statementNames = new Map<string, string>();

/** A prepared statement's name for its text (a few texts per process: a name never serves two). */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) statementNames.set(text, (name = `strata_ingest_events_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`));
  return name;
}

/** Months whose partition this process has seen exist (partitions are never dropped while serving). */
const partitionedMonths = new WeakMap<Kysely<DatabaseSchema>, Set<string>>();

/**
 * Creates the monthly partitions of `wealth.app_events` a batch needs when this process has
 * not seen them yet (once per month and process; rows of other months would land in the
 * default partition, and are moved out whenever their partition is created).
 */
async function ensureEventPartitions(db: Kysely<DatabaseSchema>, rows: readonly ValidEvent[]): Promise<void> {
  const seen = partitionedMonths.get(db) ?? new Set<string>();
  partitionedMonths.set(db, seen);
  const spec = WEALTH_PARTITIONED_FACTS[0] as MonthlyPartitioning;
  const months = [...new Set(rows.map((r) => reportingMonth(r.occurredAt, spec.timeZone ?? 'UTC')))].filter((m) => !seen.has(m));
  if (months.length === 0) return;
  // The months after a new one too, so that creating partitions (a lock on the table) stays rare.
  const wanted = [...new Set(months.flatMap((m) => [m, ...Array.from({ length: MONTHS_AHEAD }, (_, i) => addMonths(m, i + 1))]))];
  await ensureMonthlyPartitions(db, spec, wanted);
  for (const month of wanted) seen.add(month);
}

const monthFormats = new Map<string, Intl.DateTimeFormat>();
/** Per time zone, the last second formatted and its month (zone offsets are whole seconds): a batch's rows mostly share it. */
const lastMonths = new Map<string, { second: number; month: string }>();

/** `YYYY-MM` of an instant in a time zone. */
function reportingMonth(instant: string | Date, timeZone: string): string {
  const at = new Date(instant);
  const second = Math.floor(at.getTime() / 1000);
  const last = lastMonths.get(timeZone);
  if (last?.second === second) return last.month;
  let format = monthFormats.get(timeZone);
  if (!format) monthFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' })));
  const month = format.format(at).slice(0, 7);
  lastMonths.set(timeZone, { second, month });
  return month;
}

function countImpressions(counting: ImpressionCounting) {
  return sql`,
    counted as (
      insert into strata.placement_impression_counts (customer_id, placement_id, content_id, day, impressions)
      select customer_id, placement_id, properties->>'content_id', (occurred_at at time zone ${counting.timeZone})::date, count(*)::int
      from inserted
      where event_name = ${counting.eventName} and customer_id is not null and placement_id is not null and properties->>'content_id' is not null
      group by 1, 2, 3, 4
      order by 1, 4, 2, 3
      on conflict (customer_id, day, placement_id, content_id)
      do update set impressions = placement_impression_counts.impressions + excluded.impressions)`;
}

function insertVault() {
  return sql`,
    vault as (
      insert into strata.event_pii (event_id, property, ciphertext, iv, tag, key_version)
      select v."eventId", v.property, decode(v.ciphertext, 'base64'), decode(v.iv, 'base64'), decode(v.tag, 'base64'), v."keyVersion"
      from json_to_recordset(${VAULT_SLOT}::json) as v(
        "eventId" text, property text, ciphertext text, iv text, tag text, "keyVersion" integer)
      where v."eventId" in (select event_id from inserted)
      on conflict (event_id, property) do nothing)`;
}

async function insertQuarantined(db: Kysely<DatabaseSchema>, rows: readonly QuarantinedEvent[]): Promise<number> {
  if (rows.length === 0) return 0;
  const {
    rows: [result],
  } = await sql<{ inserted: number }>`
    with inserted as (
      insert into strata.event_quarantine (event_id, event_name, raw, reason)
      select * from unnest(
        ${rows.map((r) => r.eventId)}::text[], ${rows.map((r) => r.name)}::text[],
        ${rows.map((r) => JSON.stringify(r.raw))}::jsonb[], ${rows.map((r) => r.reason)}::text[])
      on conflict (event_id) do nothing
      returning event_id)
    select count(*)::int as inserted from inserted`.execute(db);
  return result?.inserted ?? 0;
}
