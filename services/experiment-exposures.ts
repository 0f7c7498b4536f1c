import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { MomentSums } from '../decisioning/statistics.ts';

/** The event every decision logs; its `properties` carry `experiment` and `variant`. */
export const EXPOSURE_EVENT = 'placement_impression';

/**
 * Per-variant sums over exposed customers. For a per-customer value Y (goal or guardrail)
 * and its pre-exposure value X (CUPED); for a ratio metric, Y is the numerator and X the
 * denominator. `positive`: customers with Y > 0.
 */
export interface VariantSums extends Required<MomentSums> {
  positive: number;
}

export interface ExperimentSums {
  readonly byVariant: ReadonlyMap<string, VariantSums>;
  /** Customers exposed to more than one variant (left out of `byVariant`). */
  readonly multiple: number;
}

export const NO_SUMS: ExperimentSums = { byVariant: new Map(), multiple: 0 };

/** Customers exposed to the experiment, one row each, with their variant and first exposure; those seen in two variants counted apart. */
export function exposuresSql(key: string): RawBuilder<unknown> {
  return sql`seen AS (
      SELECT customer_id, MIN(properties ->> 'variant') AS v0, MAX(properties ->> 'variant') AS v1, MIN(occurred_at) AS first_at
      FROM wealth.app_events
      WHERE event_name = ${EXPOSURE_EVENT} AND (properties ->> 'experiment') = ${key} AND customer_id IS NOT NULL
      GROUP BY customer_id
    ), exposed AS (SELECT customer_id, v0 AS variant, first_at FROM seen WHERE v0 = v1)`;
}

export type SumsRow = {
  variant: string | null;
  n: string | number;
  sum_y: number | null;
  sum_y2: number | null;
  sum_x: number | null;
  sum_x2: number | null;
  sum_xy: number | null;
  positive: string | number;
};

export function toSums(rows: readonly SumsRow[]): ExperimentSums {
  const byVariant = new Map<string, VariantSums>();
  let multiple = 0;
  for (const r of rows) {
    if (r.variant === null) {
      multiple = Number(r.n);
      continue;
    }
    byVariant.set(r.variant, {
      n: Number(r.n),
      sumY: Number(r.sum_y ?? 0),
      sumY2: Number(r.sum_y2 ?? 0),
      sumX: Number(r.sum_x ?? 0),
      sumX2: Number(r.sum_x2 ?? 0),
      sumXY: Number(r.sum_xy ?? 0),
      positive: Number(r.positive),
    });
  }
  return { byVariant, multiple };
}

/**
 * Event goal: per variant, exposed customers, those with the goal event in
 * `[first exposure, first exposure + windowDays)` (Y), and those with it in the same span
 * before the first exposure (X, CUPED's pre-exposure value). The goal events are read once
 * for the whole span of the experiment's exposures and hash-joined (MATERIALIZED keeps
 * PostgreSQL from probing the event table once per exposed customer).
 */
export async function eventGoalSums(db: Kysely<any>, key: string, event: string, windowDays: number): Promise<ExperimentSums> {
  const span = await exposureSpan(db, key);
  if (!span) return NO_SUMS;
  const window = sql`make_interval(days => ${windowDays})`;
  const { rows } = await sql<SumsRow>`
    WITH ${exposuresSql(key)}, goal AS MATERIALIZED (
      SELECT g.customer_id, g.occurred_at FROM wealth.app_events g
      WHERE g.event_name = ${event} AND g.customer_id IS NOT NULL
        AND g.occurred_at >= CAST(${span.first} AS timestamptz) - ${window} AND g.occurred_at < CAST(${span.last} AS timestamptz) + ${window}
    ), converted AS (
      SELECT x.variant, bool_or(g.occurred_at >= x.first_at) AS y, bool_or(g.occurred_at < x.first_at) AS x
      FROM exposed x JOIN goal g ON g.customer_id = x.customer_id AND g.occurred_at >= x.first_at - ${window} AND g.occurred_at < x.first_at + ${window}
      GROUP BY x.variant, x.customer_id
    ), sums AS (
      SELECT variant, SUM(y::int) AS sum_y, SUM(x::int) AS sum_x, SUM((x AND y)::int) AS sum_xy FROM converted GROUP BY variant
    ), ${totalsSql()}
    SELECT t.variant, t.n, COALESCE(s.sum_y, 0)::float8 AS sum_y, COALESCE(s.sum_y, 0)::float8 AS sum_y2, COALESCE(s.sum_x, 0)::float8 AS sum_x,
      COALESCE(s.sum_x, 0)::float8 AS sum_x2, COALESCE(s.sum_xy, 0)::float8 AS sum_xy, COALESCE(s.sum_y, 0) AS positive
    FROM totals t LEFT JOIN sums s ON s.variant = t.variant`.execute(db);
  return toSums(rows);
}

/** First and last exposure of an experiment (ISO text), or null before any. */
async function exposureSpan(db: Kysely<any>, key: string): Promise<{ first: string; last: string } | null> {
  const { rows } = await sql<{ first: string | null; last: string | null }>`
    SELECT to_char(MIN(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS first,
           to_char(MAX(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last
    FROM wealth.app_events WHERE event_name = ${EXPOSURE_EVENT} AND (properties ->> 'experiment') = ${key} AND customer_id IS NOT NULL`.execute(db);
  const row = rows[0];
  return row?.first && row.last ? { first: row.first, last: row.last } : null;
}

/** The reporting-zone days spanned by the windows around every first exposure: `[first day - W, last day + W]`. */
export async function exposureDays(db: Kysely<any>, key: string, windowDays: number, timeZone: string): Promise<{ from: string; to: string } | null> {
  const { rows } = await sql<{ from: string | null; to: string | null }>`
    SELECT to_char(CAST(MIN(occurred_at) AT TIME ZONE ${timeZone} AS date) - ${windowDays}::int, 'YYYY-MM-DD') AS "from",
           to_char(CAST(MAX(occurred_at) AT TIME ZONE ${timeZone} AS date) + ${windowDays + 1}::int, 'YYYY-MM-DD') AS "to"
    FROM wealth.app_events WHERE event_name = ${EXPOSURE_EVENT} AND (properties ->> 'experiment') = ${key} AND customer_id IS NOT NULL`.execute(db);
  const row = rows[0];
  return row?.from && row.to ? { from: row.from, to: row.to } : null;
}

/** `totals`: exposed customers per variant, and (variant null) those seen in two variants. */
export function totalsSql(): RawBuilder<unknown> {
  return sql`totals AS (SELECT CASE WHEN v0 = v1 THEN v0 END AS variant, COUNT(*) AS n FROM seen GROUP BY 1)`;
}
