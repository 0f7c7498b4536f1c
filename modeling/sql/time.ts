import { sql, type RawBuilder } from 'kysely';
import type { Catalog, Duration, Grain, TimeSpine, TimeStorage } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import type { DatePart } from '../query/metric-query.ts';

export interface TimeColumn {
  readonly expr: RawBuilder<unknown>;
  readonly storage: TimeStorage;
  readonly timeZone: string;
  /** A stable name of the column within its relation (its reference), for joins that depend on it. */
  readonly key?: string;
}

const SUB_DAILY: ReadonlySet<Grain> = new Set(['MILLISECOND', 'SECOND', 'MINUTE', 'HOUR']);

/** The column as a local wall-clock `timestamp` in the model's reporting time zone. */
export function localTime(column: TimeColumn): RawBuilder<unknown> {
  if (column.storage === 'timestamptz') return sql`(${column.expr} AT TIME ZONE ${sql.lit(column.timeZone)})`;
  if (column.storage === 'date') return sql`CAST(${column.expr} AS timestamp)`;
  return column.expr;
}

/** A local wall-clock `timestamp` as a value of the column's storage (the inverse of `localTime`). */
export function fromLocalTime(column: TimeColumn, local: RawBuilder<unknown>): RawBuilder<unknown> {
  if (column.storage === 'timestamptz') return sql`(${local} AT TIME ZONE ${sql.lit(column.timeZone)})`;
  if (column.storage === 'date') return sql`CAST(${local} AS date)`;
  return local;
}

/** One period of a grain as an interval (a quarter is three months). */
export function grainStep(grain: Grain): RawBuilder<unknown> {
  const text = grain === 'QUARTER' ? '3 month' : `1 ${grain.toLowerCase()}`;
  return sql`${sql.lit(text)}::interval`;
}

/**
 * The start of the column's period at `grain`, cut in the reporting time zone (weeks from
 * Monday): a `date` for DAY and coarser, a local `timestamp` below a day.
 */
export function truncate(column: TimeColumn, grain: Grain): RawBuilder<unknown> {
  const truncated = sql`date_trunc(${sql.lit(grain.toLowerCase())}, ${localTime(column)})`;
  return SUB_DAILY.has(grain) ? truncated : sql`CAST(${truncated} AS date)`;
}

/**
 * The column's period in a custom granularity of the time spine (`alien_day`): the spine
 * row of the column's day (or finer period) gives it; null when the spine has no such row.
 */
export function customGrainValue(column: TimeColumn, spine: TimeSpine, customColumn: string): RawBuilder<unknown> {
  const period = sql`CAST(date_trunc(${sql.lit(spine.grain.toLowerCase())}, ${localTime(column)}) AS timestamp)`;
  const value = sql`${sql.ref(`cg.${customColumn}`)}`;
  const typed = GRAINS.indexOf(spine.grain) >= GRAINS.indexOf('DAY') ? sql`CAST(${value} AS date)` : sql`CAST(${value} AS timestamp)`;
  return sql`(SELECT ${typed} FROM ${sql.table(spine.table)} AS cg WHERE CAST(${sql.ref(`cg.${spine.column}`)} AS timestamp) = ${period})`;
}

/** The time spine defining a custom granularity, and the column holding it. */
export function customGrainSpine(catalog: Catalog, name: string): { spine: TimeSpine; column: string } | undefined {
  for (const spine of catalog.timeSpines ?? []) {
    const custom = spine.customGranularities.find((c) => c.name === name);
    if (custom) return { spine, column: custom.column };
  }
  return undefined;
}

/** The coarsest time spine no coarser than `grain` (a day spine serves weeks, months, ...). */
export function spineFor(catalog: Catalog, grain: Grain): TimeSpine | undefined {
  const fitting = (catalog.timeSpines ?? []).filter((s) => GRAINS.indexOf(s.grain) <= GRAINS.indexOf(grain));
  return fitting.sort((a, b) => GRAINS.indexOf(b.grain) - GRAINS.indexOf(a.grain))[0];
}

/** A calendar part of the column (ISO day of week 1-7 for DOW). */
export function extractPart(column: TimeColumn, part: DatePart): RawBuilder<unknown> {
  const field = part === 'DOW' ? 'isodow' : part.toLowerCase();
  return sql`CAST(extract(${sql.raw(field)} FROM ${localTime(column)}) AS integer)`;
}

/**
 * A bound value (`YYYY-MM-DD` or ISO timestamp, read in the reporting time zone unless it
 * carries an offset) as a value comparable with the column, bound as a parameter.
 */
export function boundFor(column: TimeColumn, value: string): RawBuilder<unknown> {
  const hasOffset = /(Z|[+-]\d{2}(:?\d{2})?)$/.test(value) && value.length > 10;
  if (column.storage === 'timestamptz') {
    return hasOffset ? sql`CAST(${value} AS timestamptz)` : sql`(CAST(${value} AS timestamp) AT TIME ZONE ${sql.lit(column.timeZone)})`;
  }
  if (column.storage === 'date') return sql`CAST(${value} AS date)`;
  return sql`CAST(${value} AS timestamp)`;
}

/** An interval literal for a duration (from the catalog, never from a request). */
export function interval(duration: Duration): RawBuilder<unknown> {
  return sql`${sql.lit(`${duration.count} ${duration.grain.toLowerCase()}`)}::interval`;
}

const SUB_DAILY_MS: Readonly<Partial<Record<Grain, number>>> = { MILLISECOND: 1, SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000 };

/** `YYYY-MM-DD[ T]HH:MM[:SS[.fff]]` read as wall-clock time, as epoch milliseconds of the same UTC wall clock. */
function wallClock(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/.exec(text);
  if (!m) return undefined;
  const ms = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms);
}

function wallClockText(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, 19).replace('T', ' ') : iso.slice(0, 23).replace('T', ' ');
}

/** A sub-daily range widened to whole periods (start down, end up to the next boundary). */
function widenSubDaily(range: { from?: string; to?: string }, step: number): { from?: string; to?: string } {
  const from = range.from !== undefined ? wallClock(range.from) : undefined;
  const to = range.to !== undefined ? wallClock(range.to) : undefined;
  return {
    ...(range.from !== undefined ? { from: from === undefined || from % step === 0 ? range.from : wallClockText(Math.floor(from / step) * step) } : {}),
    ...(range.to !== undefined ? { to: to === undefined || to % step === 0 ? range.to : wallClockText(Math.ceil(to / step) * step) } : {}),
  };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function toDateText(date: Date): string {
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** Start of the period at `grain` containing a `YYYY-MM-DD` date (weeks from Monday). */
export function periodStart(dateText: string, grain: Grain): string {
  const d = new Date(`${dateText.slice(0, 10)}T00:00:00Z`);
  switch (grain) {
    case 'WEEK':
      d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
      break;
    case 'MONTH':
      d.setUTCDate(1);
      break;
    case 'QUARTER':
      d.setUTCMonth(Math.floor(d.getUTCMonth() / 3) * 3, 1);
      break;
    case 'YEAR':
      d.setUTCMonth(0, 1);
      break;
    default:
      break;
  }
  return toDateText(d);
}

/** Start of the period after the one containing `dateText`. */
export function nextPeriodStart(dateText: string, grain: Grain): string {
  const d = new Date(`${periodStart(dateText, grain)}T00:00:00Z`);
  if (grain === 'WEEK') d.setUTCDate(d.getUTCDate() + 7);
  else if (grain === 'MONTH') d.setUTCMonth(d.getUTCMonth() + 1);
  else if (grain === 'QUARTER') d.setUTCMonth(d.getUTCMonth() + 3);
  else if (grain === 'YEAR') d.setUTCFullYear(d.getUTCFullYear() + 1);
  else d.setUTCDate(d.getUTCDate() + 1);
  return toDateText(d);
}

/**
 * Widens a half-open date range to whole periods of `grain`, so the first and last
 * periods of a grouped result are complete (as MetricFlow widens its time constraints).
 */
export function widenToGrain(range: { from?: string; to?: string }, grain: Grain | undefined): { from?: string; to?: string } {
  if (!grain) return range;
  const step = SUB_DAILY_MS[grain];
  if (step !== undefined) return widenSubDaily(range, step);
  if (grain === 'DAY') return widenSubDaily(range, 86_400_000);
  const isDate = (v: string | undefined): v is string => v !== undefined && v.length === 10;
  return {
    ...(range.from !== undefined ? { from: isDate(range.from) ? periodStart(range.from, grain) : range.from } : {}),
    ...(range.to !== undefined ? { to: isDate(range.to) && periodStart(range.to, grain) !== range.to ? nextPeriodStart(range.to, grain) : range.to } : {}),
  };
}
