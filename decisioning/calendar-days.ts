import type { CalendarPeriod, FatigueRule } from './definitions.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (`YYYY-MM-DD`) of an instant in a time zone. */
export function localDay(at: Date, timeZone: string): string {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, format);
  }
  return format.format(at);
}

/** `day` moved by `days` calendar days. */
export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
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
