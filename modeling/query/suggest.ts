function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The valid names closest to a misspelt one, best first (at most `limit`). */
export function closestNames(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  const scored = [...new Set(candidates)]
    .map((name) => ({ name, score: distance(wanted.toLowerCase(), name.toLowerCase()) - (name.includes(wanted) || wanted.includes(name) ? 2 : 0) }))
    .filter(({ name, score }) => score <= Math.max(3, Math.floor(Math.max(name.length, wanted.length) / 2)))
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, limit).map((s) => s.name);
}
