import type { Database } from './database.ts';

/** A customer's impression counter row, as fatigue reads it. */
export interface ImpressionCountRow {
  readonly placement: string;
  readonly content: string;
  readonly day: string;
  readonly impressions: number;
}

const READ_COUNTS = `SELECT placement_id AS placement, content_id AS content, to_char(day, 'YYYY-MM-DD') AS day, impressions
  FROM strata.placement_impression_counts WHERE customer_id = $1 AND day >= $2::date`;

/**
 * One customer's impression counters from `since` (a reporting-zone day) on: one probe of
 * the counter table's primary key `(customer_id, day, ...)`, never a scan of the events.
 */
export function readImpressionCounts(database: Pick<Database, 'prepared'>, customerId: string, since: string): Promise<ImpressionCountRow[]> {
  return database.prepared<ImpressionCountRow>('strata_read_impression_counts', READ_COUNTS, [customerId, since]);
}

/** The counters of `q.id` from `q.since` on, as a JSON array (one probe of the counter table's primary key). */
const COUNTS_OF_Q = `(SELECT coalesce(json_agg(json_build_object('placement', c.placement_id, 'content', c.content_id,
        'day', to_char(c.day, 'YYYY-MM-DD'), 'impressions', c.impressions)), '[]'::json)
      FROM strata.placement_impression_counts c WHERE c.customer_id = q.id AND c.day >= q.since::date) AS counts`;

/**
 * One customer, the statement of a decision read alone: with `$1` and `$2` as scalars
 * PostgreSQL switches to its cached generic plan after five executions (see
 * services/snapshot.ts `READ_PROFILE`).
 */
const READ_PROFILE_WITH_COUNTS = `SELECT q.id, q.since, p.customer_id, p.tags, p.audiences, ${COUNTS_OF_Q}
  FROM (SELECT $1::text AS id, $2::text AS since) q LEFT JOIN strata.current_profiles p ON p.customer_id = q.id`;

/**
 * Several customers (the coalesced reads of concurrent decisions), their keys as one JSON
 * array of `{id, since}`. Not `unnest($1::text[], $2::text[])`: a custom plan sees the
 * arrays' length, the generic plan assumes ten rows and never looks cheaper than a custom
 * plan for the usual two to five keys, so PostgreSQL planned that statement again on every
 * execution (about 0.1 ms of a 3-key read's 0.23 ms of backend CPU on the 1,000,000-customer
 * database). `json_to_recordset` is estimated at the same 100 rows whatever its argument, so
 * the cached generic plan (the same nested loop of primary-key probes) serves from the sixth
 * execution on: 0.12 ms for 3 keys, 0.21 ms for 10 (0.32 ms before).
 */
const READ_PROFILES_WITH_COUNTS = `SELECT q.id, q.since, p.customer_id, p.tags, p.audiences, ${COUNTS_OF_Q}
  FROM json_to_recordset($1::json) AS q(id text, since text) LEFT JOIN strata.current_profiles p ON p.customer_id = q.id`;

/**
 * One row per key read: the customer and day asked for, their row of the current profile
 * snapshot (all null when it has none) and their impression counters from that day on.
 */
export interface ProfileWithCountsRow {
  readonly id: string;
  readonly since: string;
  readonly customer_id: string | null;
  readonly tags: Record<string, unknown> | null;
  readonly audiences: string[] | null;
  readonly counts: ImpressionCountRow[];
}

/**
 * What `decide` reads of customers in one statement on the primary (one round trip for the
 * profile and the counters, and for many decisions at once, services/profile-reads.ts): for
 * each key, the customer's row of the current profile snapshot (services/snapshot.ts
 * `readProfiles`) and their impression counters from `since` (`readImpressionCounts`), both
 * by primary key.
 */
export function readProfilesWithCounts(
  database: Pick<Database, 'prepared'>,
  keys: readonly { readonly id: string; readonly since: string }[],
): Promise<ProfileWithCountsRow[]> {
  if (keys.length === 0) return Promise.resolve([]);
  const [only] = keys;
  if (keys.length === 1 && only)
    return database.prepared<ProfileWithCountsRow>('strata_read_profile_with_counts', READ_PROFILE_WITH_COUNTS, [only.id, only.since]);
  return database.prepared<ProfileWithCountsRow>('strata_read_profiles_with_counts', READ_PROFILES_WITH_COUNTS, [
    JSON.stringify(keys.map((key) => ({ id: key.id, since: key.since }))),
  ]);
}

/** A logged decision, read back to answer a retried `decide` the way it was first answered. */
export interface LoggedDecision {
  readonly event_id: string;
  readonly customer_id: string | null;
  readonly placement_id: string | null;
  readonly properties: Record<string, unknown>;
}

const READ_LOGGED = `SELECT event_id, customer_id, placement_id, properties FROM wealth.app_events
  WHERE event_id = ANY($1::text[]) AND event_name = 'placement_impression'`;

/** Impressions already logged under some decision ids (primary-key lookups). */
export function readLoggedDecisions(database: Pick<Database, 'prepared'>, decisionIds: readonly string[]): Promise<LoggedDecision[]> {
  return database.prepared<LoggedDecision>('strata_read_logged_decisions', READ_LOGGED, [decisionIds]);
}
