type Row = Record<string, unknown>;

const TOLERANCE = 1e-9;

function asNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isNaN(n) ? null : n;
}

function same(a: unknown, b: unknown): boolean {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === null || y === null) return x === y;
  return x === y || Math.abs(x - y) <= TOLERANCE * Math.max(Math.abs(x), Math.abs(y));
}

/**
 * Every difference between two result sets keyed by `dimensions`, comparing `metric` as a
 * number (the API's JSON numbers against PostgreSQL's numeric and bigint text); empty when
 * both hold the same groups with the same values.
 */
export function rowDifferences(actual: readonly Row[], expected: readonly Row[], dimensions: readonly string[], metric: string): string[] {
  const key = (row: Row) => JSON.stringify(dimensions.map((d) => row[d] ?? null));
  const want = new Map(expected.map((row) => [key(row), row]));
  const got = new Map(actual.map((row) => [key(row), row]));
  const problems: string[] = [];
  if (got.size !== actual.length) problems.push(`duplicate groups in the API answer`);
  for (const [k, row] of got) {
    const other = want.get(k);
    if (!other) problems.push(`unexpected group ${k}: ${JSON.stringify(row[metric])}`);
    else if (!same(row[metric], other[metric])) problems.push(`${k}: API ${JSON.stringify(row[metric])}, SQL ${JSON.stringify(other[metric])}`);
  }
  for (const [k, row] of want) if (!got.has(k)) problems.push(`missing group ${k}: SQL ${JSON.stringify(row[metric])}`);
  return problems;
}
