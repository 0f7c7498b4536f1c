import { hashV2 } from './assignment.ts';

/**
 * The customer's point in [0, 1) of one placement's traffic at one priority, by GrowthBook's
 * hash v2: the same customer always lands in the same place, and priority levels hash
 * independently, so a lower level splits what the higher one left over evenly.
 */
export function trafficPoint(placement: string, priority: number, customerId: string): number {
  return hashV2(`strata-traffic/${placement}/${priority}/`, customerId);
}

/**
 * Which of the strategies sharing one priority level takes the customer: their traffic
 * shares are laid out one after the other on [0, 1) in key order, and the customer's point
 * falls in one of them or (when the shares add up to less than 1) in none.
 *
 * ```ts
 * allocate([{ key: 'a', share: 0.3 }, { key: 'b', share: 0.5 }], 0.42) // 'b'
 * ```
 */
export function allocate<T extends { readonly key: string; readonly share: number }>(candidates: readonly T[], point: number): T | null {
  let start = 0;
  for (const candidate of candidates) {
    if (point >= start && point < start + candidate.share) return candidate;
    start += candidate.share;
  }
  return null;
}
