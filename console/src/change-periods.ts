import type { Grain } from './generated/strata-console.ts';

/** The start of the period after `start` (`YYYY-MM-DD`) at a grain, as `YYYY-MM-DD`. */
export function nextPeriodStart(start: string, grain: Grain): string {
  const date = new Date(`${start}T00:00:00Z`);
  if (grain === 'DAY') date.setUTCDate(date.getUTCDate() + 1);
  else if (grain === 'WEEK') date.setUTCDate(date.getUTCDate() + 7);
  else if (grain === 'MONTH') date.setUTCMonth(date.getUTCMonth() + 1);
  else if (grain === 'QUARTER') date.setUTCMonth(date.getUTCMonth() + 3);
  else if (grain === 'YEAR') date.setUTCFullYear(date.getUTCFullYear() + 1);
  else throw new Error(`no calendar period for ${grain}`);
  return date.toISOString().slice(0, 10);
}

/**
 * The two periods to explain from a time series: the last period with a row (current) and the
 * one before it (base), each a half-open day range, the current one cut at the query's own end.
 */
export function lastTwoPeriods(
  starts: readonly string[],
  grain: Grain,
  queryTo?: string | null,
): { base: { from: string; to: string }; current: { from: string; to: string } } | null {
  const sorted = [...new Set(starts)].filter((s) => /^\d{4}-\d{2}-\d{2}$/.test(s)).sort();
  const current = sorted.at(-1);
  const base = sorted.at(-2);
  if (!current || !base) return null;
  const end = nextPeriodStart(current, grain);
  return { base: { from: base, to: current }, current: { from: current, to: queryTo && queryTo < end ? queryTo : end } };
}
