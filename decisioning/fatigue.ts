import { describeWindow, windowStart } from './calendar-days.ts';
import type { FatigueRule, PlacementSpec } from './definitions.ts';

/** Impressions of one customer in one placement, content and reporting-zone day: a row of the counter table. */
export interface ImpressionCount {
  readonly placement: string;
  readonly content: string;
  readonly day: string;
  readonly impressions: number;
}

/** Why a content cannot be shown now, or null when it can. */
export type Cap = { readonly rule: FatigueRule; readonly seen: number } | null;

function counted(counts: readonly ImpressionCount[], placement: string, content: string | null, since: string): number {
  let total = 0;
  for (const c of counts) if (c.placement === placement && c.day >= since && (content === null || c.content === content)) total += c.impressions;
  return total;
}

/**
 * The first fatigue rule of `placement` that `content` has reached for this customer on
 * `today` (a placement-scope rule counts every content of the placement), or null.
 *
 * ```ts
 * capOf(placement, 'welcome_a', counts, '2026-06-01') // { rule: { scope: 'CONTENT', maxImpressions: 3, windowDays: 7, period: null }, seen: 3 }
 * ```
 */
export function capOf(placement: PlacementSpec, content: string, counts: readonly ImpressionCount[], today: string): Cap {
  for (const rule of placement.fatigue) {
    const seen = counted(counts, placement.key, rule.scope === 'CONTENT' ? content : null, windowStart(rule, today));
    if (seen >= rule.maxImpressions) return { rule, seen };
  }
  return null;
}

/** The earliest day any rule of these placements reads on `today`: the counter rows a decision needs. */
export function earliestWindowStart(placements: readonly PlacementSpec[], today: string): string {
  let earliest = today;
  for (const placement of placements) for (const rule of placement.fatigue) earliest = minDay(earliest, windowStart(rule, today));
  return earliest;
}

const minDay = (a: string, b: string) => (a < b ? a : b);

export const describeCap = (cap: NonNullable<Cap>) => `capped by fatigue (${cap.seen} seen, at most ${describeWindow(cap.rule)})`;
