/**
 * Which cells of a table to hide so that no hidden cell can be told, even with the table's
 * totals: primary suppression hides every cell counting between 1 and `k - 1` subjects in
 * any of its counts (e.g. audience and reference; a zero only says that nobody of a whole
 * that is shown has the value); secondary suppression then hides the smallest other
 * non-empty cells until at least two are hidden and the hidden cells add up to at least `k`
 * in every count, so subtracting the shown cells from a total yields only a sum that is
 * itself not small. Cells are the parts of one whole (every subject in exactly one cell).
 *
 * ```ts
 * cellsToSuppress([[120], [4], [300]], 10); // [true, true, false]: 4 is small, 120 hides it
 * ```
 */
export function cellsToSuppress(cells: readonly (readonly number[])[], k: number): boolean[] {
  const hidden = cells.map((counts) => counts.some((n) => n > 0 && n < k));
  if (!hidden.some(Boolean)) return hidden;
  const width = cells[0]?.length ?? 0;
  const protectedEnough = () => {
    const chosen = cells.filter((_, i) => hidden[i]);
    if (chosen.length < 2) return false;
    return Array.from({ length: width }, (_, j) => chosen.reduce((sum, c) => sum + (c[j] ?? 0), 0)).every((sum) => sum >= k);
  };
  while (!protectedEnough()) {
    let next = -1;
    cells.forEach((counts, i) => {
      if (!hidden[i] && (counts[0] ?? 0) > 0 && (next < 0 || (counts[0] ?? 0) < (cells[next]?.[0] ?? 0))) next = i;
    });
    if (next < 0) break;
    hidden[next] = true;
  }
  return hidden;
}
