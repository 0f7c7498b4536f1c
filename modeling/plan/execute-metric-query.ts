import type { Kysely } from 'kysely';
import { StrataError } from '../errors.ts';
import type { CompiledMetricQuery, ResultColumn } from './compile-metric-query.ts';
import type { MetricPlan } from '../query/metric-plan.ts';

export interface MetricResult {
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly Record<string, unknown>[];
  readonly sql: string;
  /** The plan of the query (catalog names only; see `metrics { plan }`). */
  readonly plan: MetricPlan;
}

/** Runs a compiled metric query; numbers become JSON numbers only here, after aggregation. */
export async function executeMetricQuery(db: Kysely<any>, plan: CompiledMetricQuery): Promise<MetricResult> {
  const result = await db.executeQuery(plan.compiled);
  if (result.rows.length > plan.rowCap) {
    throw new StrataError('INVALID_QUERY', `the result has more than ${plan.rowCap} rows; add filters, a coarser grain or a limit`);
  }
  const numeric = plan.columns.filter((c) => c.type === 'number').map((c) => c.name);
  const timestamps = plan.columns.filter((c) => c.type === 'timestamp').map((c) => c.name);
  const rows = result.rows.map((row) => {
    const out: Record<string, unknown> = { ...row };
    for (const name of numeric) out[name] = toNumber(out[name]);
    for (const name of timestamps) out[name] = toLocalTimestamp(out[name]);
    return out;
  });
  return { columns: plan.columns, rows, sql: plan.compiled.sql, plan: plan.plan };
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  const n = Number(value);
  return Number.isNaN(n) ? null : n;
}

/** A wall-clock `timestamp` (no zone) as `YYYY-MM-DDTHH:MM:SS[.fff]`. */
function toLocalTimestamp(value: unknown): unknown {
  if (!(value instanceof Date)) return value;
  const iso = new Date(value.getTime() - value.getTimezoneOffset() * 60_000).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, 19) : iso.slice(0, 23);
}
