/** A value normalized for comparison: numbers, booleans, null, and times as `YYYY-MM-DD[ HH:MM:SS[.fff]]`. */
type Value = number | boolean | string | null;

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function timeText(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const t = text
    .replace('T', ' ')
    .replace(/(\d{2}:\d{2}:\d{2}(\.\d+)?)(Z|[+-]\d{2}(:?\d{2})?)$/, '$1')
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
  return t.replace(/ 00:00:00$/, '');
}

export function normalize(value: unknown): Value {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) {
    const ms = value.getMilliseconds();
    const text = `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())} ${pad(value.getHours())}:${pad(value.getMinutes())}:${pad(value.getSeconds())}${ms ? `.${pad(ms, 3)}` : ''}`;
    return timeText(text);
  }
  const text = String(value);
  if (/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?/.test(text)) return timeText(text);
  return text;
}

function sortKey(row: readonly Value[]): string {
  return JSON.stringify(row.map((v) => (typeof v === 'number' ? Number(v.toPrecision(6)) : v)));
}

function close(a: Value, b: Value): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return true;
    return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)) || Math.abs(a - b) < 1e-9;
  }
  return a === b;
}

/**
 * Compares two result sets as MetricFlow's test harness does: exact column names, rows in
 * any order unless `ordered`, floats to a relative 1e-6, a time at midnight equal to its date.
 * Returns undefined when they agree, else what differs.
 */
export function compareResults(
  actual: readonly Record<string, unknown>[],
  expected: readonly Record<string, unknown>[],
  columnsOf: { actual: string[]; expected: string[] },
  ordered: boolean,
): string | undefined {
  const want = [...columnsOf.expected].sort();
  const got = [...columnsOf.actual].sort();
  if (JSON.stringify(want) !== JSON.stringify(got)) return `columns differ: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
  const rows = (list: readonly Record<string, unknown>[]) => list.map((r) => want.map((c) => normalize(r[c])));
  let a = rows(actual);
  let e = rows(expected);
  if (a.length !== e.length)
    return `row count differs: got ${a.length}, expected ${e.length}\n got: ${JSON.stringify(a.slice(0, 8))}\n exp: ${JSON.stringify(e.slice(0, 8))}`;
  if (!ordered) {
    a = [...a].sort((x, y) => sortKey(x).localeCompare(sortKey(y)));
    e = [...e].sort((x, y) => sortKey(x).localeCompare(sortKey(y)));
  }
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Value[];
    const y = e[i] as Value[];
    if (!x.every((v, j) => close(v, y[j] as Value))) return `row ${i} differs (${want.join(', ')}):\n got: ${JSON.stringify(x)}\n exp: ${JSON.stringify(y)}`;
  }
  return undefined;
}
