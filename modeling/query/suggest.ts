/** Names longer than this get no suggestions: no catalog name is that long, and the search would cost. */
export const MAX_SUGGESTED_INPUT = 64;
/** At most this many candidates are compared. */
const MAX_CANDIDATES = 5000;

/** Edit distance of `a` and `b`, or `bound + 1` as soon as it is sure to exceed `bound`. */
function distance(a: string, b: string, bound: number): number {
  if (Math.abs(a.length - b.length) > bound) return bound + 1;
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
      if ((row[j] as number) < best) best = row[j] as number;
    }
    if (best > bound) return bound + 1;
  }
  return row[b.length] as number;
}

/**
 * The valid names closest to a misspelt one, best first (at most `limit`). The cost is
 * bounded: a name over `MAX_SUGGESTED_INPUT` characters gets none, and at most 5,000
 * candidates are compared, each abandoned once it cannot be close.
 *
 * ```ts
 * closestNames('purchase_amout', ['purchase_amount', 'aum']); // ['purchase_amount']
 * ```
 */
export function closestNames(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  if (wanted.length === 0 || wanted.length > MAX_SUGGESTED_INPUT) return [];
  const lower = wanted.toLowerCase();
  const scored: { name: string; score: number }[] = [];
  let compared = 0;
  for (const name of new Set(candidates)) {
    if (compared++ >= MAX_CANDIDATES) break;
    const bound = Math.max(3, Math.floor(Math.max(name.length, wanted.length) / 2));
    const bonus = name.includes(wanted) || wanted.includes(name) ? 2 : 0;
    const score = distance(lower, name.toLowerCase(), bound + bonus) - bonus;
    if (score <= bound) scored.push({ name, score });
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, limit).map((s) => s.name);
}
