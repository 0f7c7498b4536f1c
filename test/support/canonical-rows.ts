/**
 * Rows as sorted JSON lines for comparing two answers to the same question: numbers (and
 * numeric strings, as `pg` returns `numeric`) to 6 decimals, nulls and booleans as they are.
 */
export function canonicalRows(rows: readonly Record<string, unknown>[]): string[] {
  return rows
    .map((row) =>
      JSON.stringify(
        Object.values(row).map((v) => (v === null || typeof v === 'boolean' ? v : /^-?[\d.]+$/.test(String(v)) ? Number(v).toFixed(6) : String(v))),
      ),
    )
    .sort();
}
