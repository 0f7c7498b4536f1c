/**
 * The demo's fixed calendar. Activity covers 12 Shanghai months; inside the generator a
 * moment is a whole number of seconds since the window opened (Shanghai midnight), and a
 * day is an index from 0 (2025-11-01) to DEMO_DAYS - 1 (2026-10-31).
 */
export const DEMO_ACTIVITY_START = '2025-11-01';
export const DEMO_ACTIVITY_END_EXCLUSIVE = '2026-11-01';
/** Last day with activity (and holdings): 2026-10-31. */
export const DEMO_ACTIVITY_LAST_DAY = '2026-10-31';
export const DEMO_TIME_ZONE = 'Asia/Shanghai';
export const DEMO_DAYS = 365;
/** The older customer base registered in the two years before the window. */
export const DEMO_HISTORY_DAYS = 730;

export const SECONDS_PER_DAY = 86_400;
export const WINDOW_SECONDS = DEMO_DAYS * SECONDS_PER_DAY;
const SHANGHAI_OFFSET_SECONDS = 8 * 3600;
const START_UTC_MS = Date.parse(`${DEMO_ACTIVITY_START}T00:00:00Z`);
const MS_PER_DAY = SECONDS_PER_DAY * 1000;

/** UTC (equally: Shanghai) calendar dates for day offsets -FIRST_DAY .. DEMO_DAYS from the window start. */
const FIRST_DAY = DEMO_HISTORY_DAYS + 2;
const DATES: readonly string[] = Array.from({ length: FIRST_DAY + DEMO_DAYS + 2 }, (_, i) =>
  new Date(START_UTC_MS + (i - FIRST_DAY) * MS_PER_DAY).toISOString().slice(0, 10),
);
const TWO_DIGITS: readonly string[] = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/** The date of a day index, `YYYY-MM-DD` (from a table within the calendar, computed outside it). */
export function dayDate(day: number): string {
  return DATES[day + FIRST_DAY] ?? new Date(START_UTC_MS + day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The day index of a date string within the demo calendar. */
export function dateDay(date: string): number {
  return Math.round((Date.parse(`${date}T00:00:00Z`) - START_UTC_MS) / MS_PER_DAY);
}

/** Shanghai day index of a moment (seconds since the window opened). */
export function dayOf(moment: number): number {
  return Math.floor(moment / SECONDS_PER_DAY);
}

/** A moment as timestamptz text in UTC, e.g. `2025-10-31 16:00:05+00`. */
export function formatMoment(moment: number): string {
  const utc = moment - SHANGHAI_OFFSET_SECONDS;
  const day = Math.floor(utc / SECONDS_PER_DAY);
  let rest = utc - day * SECONDS_PER_DAY;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  return `${dayDate(day)} ${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[rest - minutes * 60]}+00`;
}

/** Relative share of activity starting in each Shanghai hour: quiet nights, busy lunch and evenings. */
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2.5, 3.5, 4, 4, 4, 5, 4, 3.5, 3.5, 3.5, 4, 4.5, 5.5, 6.5, 7, 5.5, 3];
const HOUR_CUMULATIVE = cumulative(HOUR_WEIGHTS);

/** A second of the Shanghai day, following the hourly rhythm, from a uniform draw and a second one. */
export function secondOfDay(u: number, v: number): number {
  const hour = searchCumulative(HOUR_CUMULATIVE, u);
  return hour * 3600 + Math.floor(v * 3600);
}

export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => {
    total += w;
    out[i] = total;
  });
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / total;
  return out;
}

/** The first index whose cumulative share exceeds `u` (binary search). */
export function searchCumulative(table: Float64Array, u: number): number {
  let low = 0;
  let high = table.length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (table[mid]! > u) high = mid;
    else low = mid + 1;
  }
  return low;
}
