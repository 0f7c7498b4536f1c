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
