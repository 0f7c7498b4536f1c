import { sql, type Kysely } from 'kysely';
import type { ValidEvent } from '../modeling/events/validate-event.ts';
import type { Database } from './database.ts';
import type { DatabaseSchema } from './schema.ts';

/** An undeclared event kept for stewards: the body as received and why it was not accepted. */
export interface QuarantinedEvent {
  readonly eventId: string;
  readonly name: string;
  readonly raw: unknown;
  readonly reason: string;
}

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
 * per table, `ON CONFLICT (event_id) DO NOTHING`: the primary key arbitrates, so accepted and
 * duplicate counts are exact even when two retries of one batch race. The first write of an
 * `eventId` wins; a later event with the same id and different content is a duplicate.
 *
 * ```ts
 * const { accepted, duplicates } = await ingestEvents(database, [event]);
 * ```
 */
export async function ingestEvents(
  database: Database,
  events: readonly ValidEvent[],
  quarantine: readonly QuarantinedEvent[] = [],
): Promise<IngestOutcome> {
  const rows = uniqueSorted(events);
  const held = uniqueSorted(quarantine);
  const write = async (db: Kysely<DatabaseSchema>) => ({
    accepted: await insertEvents(db, rows),
    quarantined: await insertQuarantined(db, held),
  });
  // A single statement commits on its own; two must commit together.
  const written = rows.length > 0 && held.length > 0 ? await database.db.transaction().execute(write) : await write(database.db);
  return { ...written, duplicates: events.length + quarantine.length - written.accepted - written.quarantined };
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
 * The whole batch travels as one JSON parameter that PostgreSQL unpacks with
 * `json_to_recordset`: one native `JSON.stringify` instead of escaping ten arrays in JavaScript.
 */
async function insertEvents(db: Kysely<DatabaseSchema>, rows: readonly ValidEvent[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rows: [result] } = await sql<{ inserted: number }>`
    with inserted as (
      insert into wealth.app_events
        (event_id, customer_id, anonymous_id, event_name, occurred_at, channel, page, placement_id, product_id, properties)
      select "eventId", "customerId", "anonymousId", name, "occurredAt", channel, page, "placementId", "productId", properties
      from json_to_recordset(${JSON.stringify(rows)}::json) as e(
        "eventId" text, "customerId" text, "anonymousId" text, name text, "occurredAt" timestamptz,
        channel text, page text, "placementId" text, "productId" text, properties jsonb)
      on conflict (event_id) do nothing
      returning event_id)
    select count(*)::int as inserted from inserted`.execute(db);
  return result?.inserted ?? 0;
}

async function insertQuarantined(db: Kysely<DatabaseSchema>, rows: readonly QuarantinedEvent[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rows: [result] } = await sql<{ inserted: number }>`
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
