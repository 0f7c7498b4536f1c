/**
 * Dates and times as requests carry them: `YYYY-MM-DD`, optionally followed by
 * `[T ]HH:MM[:SS[.ffffff]]` and an offset (`Z`, `+08`, `+08:00`, `+0800`). The calendar is
 * checked, so nothing reaches PostgreSQL that it would refuse (`2026-02-30`) or silently
 * roll over (`24:00`, `23:59:60`).
 */
const PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-](\d{2})(?::?(\d{2}))?)?)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** What is wrong with the calendar fields of a matched value, or undefined. */
function calendarProblem(m: RegExpExecArray): string | undefined {
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1) return 'year 0000 does not exist';
  if (month < 1 || month > 12) return `month ${m[2]} does not exist`;
  if (day < 1 || day > daysInMonth(year, month)) return `${m[1]}-${m[2]} has ${daysInMonth(year, month)} days`;
  if (m[4] !== undefined && Number(m[4]) > 23) return `hour ${m[4]} is out of range (00-23)`;
  if (m[5] !== undefined && Number(m[5]) > 59) return `minute ${m[5]} is out of range (00-59)`;
  if (m[6] !== undefined && Number(m[6]) > 59) return `second ${m[6]} is out of range (00-59)`;
  if (m[7] !== undefined && (Number(m[7]) > 15 || Number(m[8] ?? 0) > 59)) return 'the UTC offset is out of range (at most ±15:59)';
  return undefined;
}

/**
 * Why `text` is not a real date or timestamp, or undefined when it is.
 *
 * ```ts
 * timeProblem('2026-02-28T23:00:00+08:00'); // undefined
 * timeProblem('2026-02-30');                 // '2026-02 has 28 days'
 * timeProblem('2026-01-01T25:00:00Z');       // 'hour 25 is out of range (00-23)'
 * ```
 */
export function timeProblem(text: string): string | undefined {
  const m = text.length <= 40 ? PATTERN.exec(text) : null;
  if (!m) return 'expected YYYY-MM-DD or an ISO 8601 timestamp such as 2026-01-31T08:00:00+08:00';
  return calendarProblem(m);
}

/** Why `text` is not a real `YYYY-MM-DD` date, or undefined when it is. */
export function dateProblem(text: string): string | undefined {
  if (!DATE.test(text)) return 'expected a date, YYYY-MM-DD';
  return timeProblem(text);
}
