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

const READ_PROFILE_WITH_COUNTS = `SELECT p.customer_id, p.tags, p.audiences,
    (SELECT coalesce(json_agg(json_build_object('placement', c.placement_id, 'content', c.content_id,
        'day', to_char(c.day, 'YYYY-MM-DD'), 'impressions', c.impressions)), '[]'::json)
      FROM strata.placement_impression_counts c WHERE c.customer_id = $1 AND c.day >= $2::date) AS counts
  FROM (SELECT $1::text AS id) q LEFT JOIN strata.current_profiles p ON p.customer_id = q.id`;

/** A customer's profile row (all null when the current snapshot has none) and their impression counters. */
export interface ProfileWithCountsRow {
  readonly customer_id: string | null;
  readonly tags: Record<string, unknown> | null;
  readonly audiences: string[] | null;
  readonly counts: ImpressionCountRow[];
}

/**
 * What `decide` reads of one customer in one statement on the primary (one round trip, not
 * two): their row of the current profile snapshot (services/snapshot.ts `readProfiles`) and
 * their impression counters from `since` (`readImpressionCounts`), both by primary key.
 */
export function readProfileWithCounts(database: Pick<Database, 'prepared'>, customerId: string, since: string): Promise<ProfileWithCountsRow[]> {
  return database.prepared<ProfileWithCountsRow>('strata_read_profile_with_counts', READ_PROFILE_WITH_COUNTS, [customerId, since]);
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
