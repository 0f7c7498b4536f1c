import type { CalendarPeriod, FatigueRule } from './definitions.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per time zone, the last second formatted and its day: every decision of that second reuses it. */
const lastDays = new Map<string, { second: number; day: string }>();

/** The calendar day (`YYYY-MM-DD`) of an instant in a time zone. */
export function localDay(at: Date, timeZone: string): string {
  // Zone offsets are whole seconds, so one second never spans two days.
  const second = Math.floor(at.getTime() / 1000);
  const last = lastDays.get(timeZone);
  if (last?.second === second) return last.day;
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, format);
  }
  const day = format.format(at);
  lastDays.set(timeZone, { second, day });
  return day;
}

/** Days moved recently (`day`, `days` -> day): the fatigue windows of today, asked on every decision. */
const moved = new Map<string, string>();

/** `day` moved by `days` calendar days. */
export function addDays(day: string, days: number): string {
  const key = `${day}/${days}`;
  const known = moved.get(key);
  if (known !== undefined) return known;
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  const result = date.toISOString().slice(0, 10);
  if (moved.size >= 1024) moved.clear();
  moved.set(key, result);
  return result;
}

function periodStart(day: string, period: CalendarPeriod): string {
  switch (period) {
    case 'DAY':
      return day;
    case 'WEEK': {
      const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
      return addDays(day, -((weekday + 6) % 7));
    }
    case 'MONTH':
      return `${day.slice(0, 8)}01`;
  }
}

/**
 * The first day counted by a fatigue rule on `today`: the last `windowDays` days including
 * today, or the start of the current calendar period (ISO week from Monday).
 */
export function windowStart(rule: FatigueRule, today: string): string {
  if (rule.period) return periodStart(today, rule.period);
  return addDays(today, -((rule.windowDays ?? 1) - 1));
}

/** Words for a rule: `3 per 7 days`, `1 per calendar week`. */
export function describeWindow(rule: FatigueRule): string {
  const window = rule.period ? `calendar ${rule.period.toLowerCase()}` : `${rule.windowDays} day${rule.windowDays === 1 ? '' : 's'}`;
  return `${rule.maxImpressions} per ${window}${rule.scope === 'CONTENT' ? ' per content' : ' in the placement'}`;
}
