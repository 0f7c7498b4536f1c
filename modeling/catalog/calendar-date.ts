/**
 * Whether `value` is a real calendar date written `YYYY-MM-DD` (`2026-02-30` is not).
 *
 * ```ts
 * isCalendarDate('2024-02-29'); // true
 * isCalendarDate('2026-02-30'); // false
 * ```
 */
export function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
