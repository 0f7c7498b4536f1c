/** One entry of a definition's history, as `tagHistory` and `decisionHistory` answer it. */
export interface HistoryEntry {
  readonly version: number;
  readonly status: string;
  readonly at: string;
  readonly diff: unknown;
}

export interface Change {
  readonly path: string;
  readonly from: unknown;
  readonly to: unknown;
}

/**
 * What changed since the published version: the history's diffs after the last entry that
 * published, folded per path (first `from`, last `to`); the status itself left out. Null when
 * no version was ever published (the whole definition is new).
 */
export function diffSincePublished(history: readonly HistoryEntry[]): Change[] | null {
  const ordered = [...history].sort((a, b) => a.version - b.version || a.at.localeCompare(b.at));
  const lastPublished = ordered.map((e) => e.status).lastIndexOf('PUBLISHED');
  if (lastPublished < 0) return null;
  const folded = new Map<string, Change>();
  for (const entry of ordered.slice(lastPublished + 1)) {
    for (const change of (entry.diff as Change[]) ?? []) {
      if (change.path === 'status') continue;
      const before = folded.get(change.path);
      folded.set(change.path, { path: change.path, from: before ? before.from : change.from, to: change.to });
    }
  }
  return [...folded.values()].filter((c) => JSON.stringify(c.from) !== JSON.stringify(c.to));
}
