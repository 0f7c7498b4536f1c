import type { CompiledQuery, Kysely } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { StrataError } from '../errors.ts';
import { resolveFunnelQuery, type FunnelQuery, type ResolvedFunnelQuery } from '../query/funnel-query.ts';
import { funnelSql } from '../sql/funnel-sql.ts';
import { sqlCompiler } from '../sql/sql-compiler.ts';

export interface CompiledFunnelQuery {
  readonly query: ResolvedFunnelQuery;
  readonly compiled: CompiledQuery<Record<string, unknown>>;
  readonly rowCap: number;
}

export interface FunnelStepResult {
  /** 1-based. */
  readonly index: number;
  readonly event: string;
  readonly label?: string;
  /** Customers reaching this step (null: fewer than the privacy threshold). */
  readonly customers: number | null;
  /** customers / the previous step's customers (1 for step 1). */
  readonly conversionFromPrevious: number | null;
  /** customers / step 1's customers. */
  readonly conversionFromFirst: number | null;
  /** Median seconds from the previous step's matched event (null for step 1, or none converted). */
  readonly medianSecondsFromPrevious: number | null;
  readonly suppressed: boolean;
}

export interface FunnelGroupResult {
  /** Group-by values keyed like metric result columns (`customer__channel`). */
  readonly dimensions: Readonly<Record<string, unknown>>;
  readonly steps: readonly FunnelStepResult[];
}

export interface FunnelResult {
  readonly funnel?: string;
  readonly windowHours: number;
  readonly timeRange: { readonly from: string; readonly to: string };
  readonly groups: readonly FunnelGroupResult[];
  readonly sql: string;
}

/** Resolves a funnel query and compiles it to one statement (see `funnelSql`). */
export function compileFunnelQuery(index: CatalogIndex, input: FunnelQuery, options: { maxRows: number }): CompiledFunnelQuery {
  const query = resolveFunnelQuery(index, input);
  return {
    query,
    compiled: funnelSql(index, query, options.maxRows + 1).compile(sqlCompiler) as CompiledQuery<Record<string, unknown>>,
    rowCap: options.maxRows,
  };
}

/**
 * Runs a compiled funnel. With `minSubjects`, a step counting fewer customers than that has
 * its customers, conversions and median hidden (null, `suppressed`); counts only fall from
 * step to step, so the hidden steps of a group are its last ones and no shown ratio
 * reveals a hidden count.
 */
export async function executeFunnelQuery(db: Kysely<any>, plan: CompiledFunnelQuery, minSubjects?: number): Promise<FunnelResult> {
  const result = await db.executeQuery(plan.compiled);
  if (result.rows.length > plan.rowCap) throw new StrataError('INVALID_QUERY', `the funnel has more than ${plan.rowCap} groups; group by fewer dimensions`);
  const { query } = plan;
  const groups = result.rows.map((row): FunnelGroupResult => {
    const dimensions = Object.fromEntries(query.groupBy.map((g, i) => [g.column, dimensionValue(row[`g${i}`], g.type, g.grain)]));
    const counts = query.steps.map((_, i) => Number(row[`c${i + 1}`] ?? 0));
    const first = counts[0] ?? 0;
    const steps = query.steps.map((step, i): FunnelStepResult => {
      const customers = counts[i] ?? 0;
      const previous = i === 0 ? customers : (counts[i - 1] ?? 0);
      const hidden = minSubjects !== undefined && customers < minSubjects;
      const median = i === 0 ? null : toNumber(row[`m${i + 1}`]);
      return {
        index: i + 1,
        event: step.event,
        ...(step.label ? { label: step.label } : {}),
        customers: hidden ? null : customers,
        conversionFromPrevious: hidden || previous === 0 ? null : customers / previous,
        conversionFromFirst: hidden || first === 0 ? null : customers / first,
        medianSecondsFromPrevious: hidden ? null : median,
        suppressed: hidden,
      };
    });
    return { dimensions, steps };
  });
  return {
    ...(query.name ? { funnel: query.name } : {}),
    windowHours: query.windowHours,
    timeRange: query.timeRange,
    groups,
    sql: plan.compiled.sql,
  };
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isNaN(n) ? null : n;
}

/** Dates as `YYYY-MM-DD` (as metric results show them), numbers as numbers. */
function dimensionValue(value: unknown, type: string, grain: string | undefined): unknown {
  if (value instanceof Date) {
    if (type === 'time' && (grain === undefined || ['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'].includes(grain))) {
      const local = new Date(value.getTime() - value.getTimezoneOffset() * 60_000);
      return local.toISOString().slice(0, 10);
    }
    return value.toISOString();
  }
  if (type === 'number' && value !== null && value !== undefined) return Number(value);
  return value;
}
