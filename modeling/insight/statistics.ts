import { jstat } from './jstat.ts';

/** A chi-square test of independence: the statistic, its degrees of freedom and the upper-tail p-value. */
export interface ChiSquare {
  readonly statistic: number;
  readonly dof: number;
  readonly pValue: number;
}

/** Upper-tail probability of a chi-square statistic (jstat's CDF), clamped to [0, 1]. */
export function chiSquareSurvival(statistic: number, dof: number): number {
  if (statistic <= 0) return 1;
  return Math.min(1, Math.max(0, 1 - jstat.chisquare.cdf(statistic, dof)));
}

/**
 * Pearson's chi-square test of independence on an r x c table of counts, without continuity
 * correction (scipy's `chi2_contingency(table, correction=False)`). Rows and columns that
 * are all zero are dropped first; null when fewer than two rows or two columns remain (the
 * test says nothing then).
 *
 * ```ts
 * chiSquareTest([[30, 70], [10, 90]]); // { statistic: 12.5, dof: 1, pValue: 0.000407... }
 * ```
 */
export function chiSquareTest(table: readonly (readonly number[])[]): ChiSquare | null {
  const width = table[0]?.length ?? 0;
  const columnSums = Array.from({ length: width }, (_, j) => table.reduce((s, row) => s + (row[j] ?? 0), 0));
  const columns = columnSums.flatMap((sum, j) => (sum > 0 ? [j] : []));
  const rows = table.filter((row) => row.some((n) => n > 0));
  if (rows.length < 2 || columns.length < 2) return null;
  const total = columns.reduce((s, j) => s + (columnSums[j] ?? 0), 0);
  let statistic = 0;
  for (const row of rows) {
    const rowSum = columns.reduce((s, j) => s + (row[j] ?? 0), 0);
    for (const j of columns) {
      const expected = (rowSum * (columnSums[j] ?? 0)) / total;
      statistic += ((row[j] ?? 0) - expected) ** 2 / expected;
    }
  }
  const dof = (rows.length - 1) * (columns.length - 1);
  return { statistic, dof, pValue: chiSquareSurvival(statistic, dof) };
}

/** Cramér's V of an r x c table: sqrt(chi2 / (n (min(r, c) - 1))), over the rows and columns that are not all zero. */
export function cramersV(table: readonly (readonly number[])[], test: ChiSquare): number {
  const total = table.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  const rows = table.filter((row) => row.some((n) => n > 0)).length;
  const columns = (table[0] ?? []).filter((_, j) => table.some((row) => (row[j] ?? 0) > 0)).length;
  const smaller = Math.min(rows, columns) - 1;
  return smaller > 0 && total > 0 ? Math.sqrt(test.statistic / (total * smaller)) : 0;
}

/**
 * Benjamini-Hochberg q-values (false discovery rate) of p-values, in their order; nulls stay
 * null and do not count in m.
 *
 * ```ts
 * benjaminiHochberg([0.01, 0.04, 0.03, null]); // [0.03, 0.04, 0.04, null]
 * ```
 */
export function benjaminiHochberg(pValues: readonly (number | null)[]): (number | null)[] {
  const ranked = pValues.flatMap((p, i) => (p === null ? [] : [{ p, i }])).sort((a, b) => a.p - b.p || a.i - b.i);
  const m = ranked.length;
  const q: (number | null)[] = pValues.map(() => null);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const entry = ranked[r] as { p: number; i: number };
    running = Math.min(running, (entry.p * m) / (r + 1));
    q[entry.i] = running;
  }
  return q;
}
