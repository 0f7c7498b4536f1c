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

/** First and last first exposure of an experiment's customers, ISO text with microseconds (UTC). */
export interface ExposureSpan {
  readonly first: string;
  readonly last: string;
}

/**
 * `exposed`: customers exposed to one arm of the experiment, with their variant and first
 * exposure, from `strata.experiment_exposures` (one row per experiment and customer, kept
 * with the exposure events: migration 0026). Not materialized: each part reads the table
 * again (a million narrow rows), and PostgreSQL plans its joins knowing how many there are
 * (a materialized CTE is a guess of a few thousand, and it sorted both sides of a merge join).
 */
export function exposuresSql(key: string): RawBuilder<unknown> {
  return sql`exposed AS NOT MATERIALIZED (
      SELECT customer_id, variant, first_exposed_at AS first_at FROM strata.experiment_exposures
      WHERE experiment = ${key} AND variant IS NOT NULL
    )`;
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

/** One goal or guardrail of a results statement: its CTEs (after `exposed` and `totals`) and its `sums_<part>` per variant. */
export interface SumsPart {
  readonly ctes: RawBuilder<unknown>;
}

/**
 * Event goal: per variant, exposed customers, those with the goal event in
 * `[first exposure, first exposure + windowDays)` (Y), and those with it in the same span
 * before the first exposure (X, CUPED's pre-exposure value). The goal events are read once
 * for the whole span of the experiment's exposures, bounded by timestamps computed here
 * (sargable: the partitions outside are pruned at planning), and hash-joined: not
 * materialized, so PostgreSQL sees their statistics and hashes them (129,204 goal events at a
 * million exposed customers, one batch) while the exposures stream through; as a materialized
 * CTE of unknown spread it hashed the million exposures instead, in 16 batches on disk.
 */
export function eventGoalPart(part: number, event: string, windowDays: number, span: ExposureSpan): SumsPart {
  const window = sql`make_interval(days => ${windowDays})`;
  // A day more each side than the join below reads: its days follow the session's calendar.
  const from = shiftDays(span.first, -windowDays - 1);
  const to = shiftDays(span.last, windowDays + 1);
  const name = (base: string) => sql.id(`${base}_${part}`);
  return {
    ctes: sql`${name('goal')} AS NOT MATERIALIZED (
      SELECT g.customer_id, g.occurred_at FROM wealth.app_events g
      WHERE g.event_name = ${event} AND g.customer_id IS NOT NULL
        AND g.occurred_at >= CAST(${from} AS timestamptz) AND g.occurred_at < CAST(${to} AS timestamptz)
    ), ${name('converted')} AS (
      SELECT x.variant, bool_or(g.occurred_at >= x.first_at) AS y, bool_or(g.occurred_at < x.first_at) AS x
      FROM exposed x JOIN ${name('goal')} g ON g.customer_id = x.customer_id AND g.occurred_at >= x.first_at - ${window} AND g.occurred_at < x.first_at + ${window}
      GROUP BY x.variant, x.customer_id
    ), ${name('sums')} AS (
      SELECT variant, SUM(y::int)::float8 AS sum_y, SUM(y::int)::float8 AS sum_y2, SUM(x::int)::float8 AS sum_x, SUM(x::int)::float8 AS sum_x2,
        SUM((x AND y)::int)::float8 AS sum_xy, SUM(y::int) AS positive
      FROM ${name('converted')} GROUP BY variant
    )`,
  };
}

/** `iso` (UTC, as `exposureSpan` writes it) moved by whole days of 24 hours, as ISO text. */
function shiftDays(iso: string, days: number): string {
  const [whole, micros = '000000'] = iso.replace(/Z$/, '').split('.');
  const moved = new Date(Date.parse(`${whole}Z`) + days * 86_400_000).toISOString().slice(0, 19);
  return `${moved}.${micros.padEnd(6, '0')}Z`;
}

/**
 * First and last first exposure of an experiment's customers (ISO text), or null before any:
 * the two ends of `strata.experiment_exposures`' index by experiment and first exposure. Every
 * window the results read lies within `[first - window, last + window)`.
 */
export async function exposureSpan(db: Kysely<any>, key: string): Promise<ExposureSpan | null> {
  const { rows } = await sql<{ first: string | null; last: string | null }>`
    SELECT to_char(MIN(first_exposed_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS first,
           to_char(MAX(first_exposed_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last
    FROM strata.experiment_exposures WHERE experiment = ${key}`.execute(db);
  const row = rows[0];
  return row?.first && row.last ? { first: row.first, last: row.last } : null;
}

/** The reporting-zone days spanned by the windows around every first exposure: `[first day - W, last day + W]` (from the span: no table read). */
export async function exposureDays(db: Kysely<any>, span: ExposureSpan, windowDays: number, timeZone: string): Promise<{ from: string; to: string }> {
  const { rows } = await sql<{ from: string; to: string }>`
    SELECT to_char(CAST(CAST(${span.first} AS timestamptz) AT TIME ZONE ${timeZone} AS date) - ${windowDays}::int, 'YYYY-MM-DD') AS "from",
           to_char(CAST(CAST(${span.last} AS timestamptz) AT TIME ZONE ${timeZone} AS date) + ${windowDays + 1}::int, 'YYYY-MM-DD') AS "to"`.execute(db);
  return rows[0] as { from: string; to: string };
}

/** `totals`: exposed customers per variant, and (variant null) those seen in two variants (or in none named). */
export function totalsSql(key: string): RawBuilder<unknown> {
  return sql`totals AS (SELECT variant, COUNT(*) AS n FROM strata.experiment_exposures WHERE experiment = ${key} GROUP BY variant)`;
}
