import type { Database } from '../store/database.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';
import { createSemanticLayer, type SemanticLayer } from '../modeling/semantic-layer.ts';
import { createGoal, listGoals } from '../services/goals.ts';
import { dataLastCompleteDay } from '../services/dashboards.ts';

/** The demo's goal tree: the last complete quarter's purchase amount, and one child goal per month of it. */
export const DEMO_GOAL = 'demo_purchase_quarter';
/** Each month's target: this much above the same month of the quarter before (a growth plan, not a number made up). */
export const DEMO_GROWTH = 0.05;
const METRIC = 'purchase_amount';
const ACTOR = 'strata-demo';

function monthStart(date: string, offsetMonths: number): string {
  const d = new Date(`${date.slice(0, 7)}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + offsetMonths);
  return d.toISOString().slice(0, 10);
}

/** The quarter holding a day: `[from, to)` and its three months. */
export function quarterOf(day: string): { from: string; to: string; months: { from: string; to: string }[] } {
  const month = Number(day.slice(5, 7));
  const from = `${day.slice(0, 4)}-${String(month - ((month - 1) % 3)).padStart(2, '0')}-01`;
  const months = [0, 1, 2].map((i) => ({ from: monthStart(from, i), to: monthStart(from, i + 1) }));
  return { from, to: monthStart(from, 3), months };
}

/** The last quarter whose every day is at most `lastDay` (the quarter holding it when it ends the quarter). */
export function lastCompleteQuarter(lastDay: string): ReturnType<typeof quarterOf> {
  const holding = quarterOf(lastDay);
  const next = new Date(`${lastDay}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10) === holding.to ? holding : quarterOf(monthStart(holding.from, -3));
}

async function metricOver(database: Database, semantic: SemanticLayer, range: { from: string; to: string }): Promise<number> {
  const { rows } = await semantic.query(database.db, { metrics: [METRIC], timeRange: range }, { clearance: 'internal' });
  return Number(rows[0]?.[METRIC] ?? 0);
}

/**
 * Creates the demo's goals when the database has none of them, through the same service
 * (`createGoal`: checked, versioned, audited under `strata-demo`) an operator's goals go
 * through: for the data's last complete quarter, one goal per month whose
 * target is the same month of the quarter before plus `DEMO_GROWTH` (read from the demo's own
 * data through the semantic layer), and the quarter's goal, their parent, with the sum of
 * their targets. The cockpit's goal tile then shows the quarter's progress and what each
 * month contributes. Returns how many goals were created.
 */
export async function seedDemoGoals(database: Database, domain: Domain, now = new Date()): Promise<number> {
  if ((await listGoals(database.db, [DEMO_GOAL])).length > 0) return 0;
  const semantic = createSemanticLayer(domain.catalog, { maxRows: 10_000, subject: domain.subject });
  const quarter = lastCompleteQuarter(await dataLastCompleteDay(database.db, semantic, now));
  const targets = await Promise.all(
    quarter.months.map(async (month) => {
      const before = { from: monthStart(month.from, -3), to: monthStart(month.from, -2) };
      const base = await metricOver(database, semantic, before);
      return { month, before, base, target: Math.round(base * (1 + DEMO_GROWTH)) };
    }),
  );
  const total = targets.reduce((sum, t) => sum + t.target, 0);
  if (total <= 0) return 0;
  const growth = `${Math.round(DEMO_GROWTH * 100)} %`;
  await createGoal(database.db, semantic, ACTOR, DEMO_GOAL, {
    metric: METRIC,
    target: total,
    period: { from: quarter.from, to: quarter.to },
    description: `Purchase amount of the quarter: its months' targets added up (each ${growth} above the same month of the quarter before)`,
  });
  for (const t of targets)
    await createGoal(database.db, semantic, ACTOR, `demo_purchase_${t.month.from.slice(0, 7).replace('-', '_')}`, {
      metric: METRIC,
      target: t.target,
      period: t.month,
      parent: DEMO_GOAL,
      description: `${growth} above ${t.before.from.slice(0, 7)} (${t.base.toFixed(2)} CNY)`,
    });
  return 1 + targets.length;
}
