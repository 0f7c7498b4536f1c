import { createRandom, STREAM } from './random.ts';
import { DEMO_DAYS, dayDate, dayOf } from './calendar.ts';
import type { CustomerProfile } from './customers.ts';

/** One assessed risk level of a customer, in effect on Shanghai days `[fromDay, toDay)` (`toDay` null: still in effect). */
export interface RiskAssessment {
  readonly riskLevel: number;
  readonly fromDay: number;
  readonly toDay: number | null;
}

/** Share of customers reassessed at least once, and of those, a second time. */
const REASSESSED_SHARE = 0.35;
const REASSESSED_AGAIN_SHARE = 0.3;
/** A reassessment comes at least this many days after the previous one. */
const MIN_GAP_DAYS = 30;

/**
 * A customer's risk-assessment history: the first assessment takes effect on the day they
 * registered; some customers were reassessed later (before the window closes), each time
 * one level up or down. The last assessment is open and equals `customer.riskLevel`, the
 * level `wealth.customers` shows, so the rest of the demo data is unchanged. Drawn from a
 * stream of its own: the same seed gives the same history on every engine.
 *
 * ```ts
 * riskHistory(42, customer); // [{ riskLevel: 2, fromDay: -300, toDay: 41 }, { riskLevel: 3, fromDay: 41, toDay: null }]
 * ```
 */
export function riskHistory(seed: number, customer: CustomerProfile): RiskAssessment[] {
  const random = createRandom(seed, STREAM.risk, customer.index);
  const first = dayOf(customer.registeredAt);
  const changes: number[] = [];
  let from = first;
  for (const share of [REASSESSED_SHARE, REASSESSED_AGAIN_SHARE]) {
    const earliest = from + MIN_GAP_DAYS;
    if (earliest >= DEMO_DAYS || !random.chance(share)) break;
    from = earliest + random.int(DEMO_DAYS - earliest);
    changes.push(from);
  }
  // Levels from the latest backwards: each earlier one a step away from the one after it.
  const levels = [customer.riskLevel];
  for (let i = 0; i < changes.length; i++) {
    const after = levels[0] as number;
    const step = after === 1 ? 1 : after === 5 ? -1 : random.chance(0.5) ? 1 : -1;
    levels.unshift(after + step);
  }
  const starts = [first, ...changes];
  return levels.map((riskLevel, i) => ({ riskLevel, fromDay: starts[i] as number, toDay: starts[i + 1] ?? null }));
}

/** The customer's `wealth.risk_assessments` CSV lines. */
export function riskAssessmentsCsv(seed: number, customer: CustomerProfile): string {
  return riskHistory(seed, customer)
    .map((a) => `${customer.id},C${a.riskLevel},${dayDate(a.fromDay)},${a.toDay === null ? '' : dayDate(a.toDay)}\n`)
    .join('');
}

export const RISK_ASSESSMENT_COLUMNS = ['customer_id', 'risk_level', 'valid_from', 'valid_to'] as const;
