import type { CompiledQuery } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { GRAINS } from '../catalog/types.ts';
import { resolveQuery, type ResolvedGroupBy } from '../query/resolve-query.ts';
import type { MetricQuery } from '../query/metric-query.ts';
import type { MetricPlan } from '../query/metric-plan.ts';
import { queryMembers, type QueryMember } from '../query/query-members.ts';
import { renderPlan } from '../sql/render-plan.ts';
import { sqlCompiler } from '../sql/sql-compiler.ts';
import { planMetricQuery, planQuery } from './plan-metric-query.ts';
import { matchRollup } from './match-rollup.ts';
import { deepFreeze } from '../catalog/freeze.ts';

export interface ResultColumn {
  readonly name: string;
  readonly kind: 'DIMENSION' | 'METRIC';
  /** `string`, `number`, `boolean`, `date` (YYYY-MM-DD) or `timestamp`. */
  readonly type: string;
}

export interface CompiledMetricQuery {
  readonly columns: readonly ResultColumn[];
  /** The plan the statement renders: data naming catalog members only (no table or column). */
  readonly plan: MetricPlan;
  readonly compiled: CompiledQuery<Record<string, unknown>>;
  /** Largest number of rows the statement fetches: the row cap plus one, to detect overflow. */
  readonly fetchLimit: number;
  readonly rowCap: number;
  /** Every member the query reads, with the sensitivity class of that use (checked against the caller's clearance). */
  readonly members: readonly QueryMember[];
  /** The model a distinct-values query reads (none for a metric query or the time spine alone). */
  readonly distinctModel?: string;
}

/**
 * Compiles a metric query into one SQL statement: each fact aggregated at its own grain in
 * a CTE, the CTEs combined on the requested dimensions (NULL is a group like any other),
 * and the metric expressions evaluated over the combined aggregates.
 */
export interface CompileOptions {
  readonly maxRows: number;
  /**
   * Faster plan shapes for common cases (one pass for measures of a model, probed
   * semi-additive periods, aggregated conversion anchors, plain counts of a primary key).
   * `false` compiles the generic shapes, which return the same rows: tests compare the two.
   */
  readonly rewrites?: boolean;
  /** Answer from a covering rollup when there is one (default); `false` always reads raw tables. */
  readonly useRollups?: boolean;
}

export function compileMetricQuery(index: CatalogIndex, query: MetricQuery, options: CompileOptions): CompiledMetricQuery {
  const resolved = resolveQuery(index, query);
  const wanted = resolved.limit ?? Infinity;
  const fetchLimit = Math.min(wanted, options.maxRows + 1);
  const fastShapes = options.rewrites !== false;
  const fromRollup = options.useRollups !== false && query.useRollups !== false ? matchRollup(index, resolved, fastShapes, planQuery(resolved)) : undefined;
  const plan = fromRollup ? deepFreeze(fromRollup) : planMetricQuery(index, resolved, { fastShapes });
  return {
    columns: [
      ...resolved.groupBy.map((g): ResultColumn => ({ name: g.column, kind: 'DIMENSION', type: columnType(index, g) })),
      ...resolved.metrics.map((m): ResultColumn => ({ name: m.name, kind: 'METRIC', type: 'number' })),
    ],
    plan,
    compiled: renderPlan(index, plan, fetchLimit).compile(sqlCompiler) as CompiledQuery<Record<string, unknown>>,
    fetchLimit,
    rowCap: options.maxRows,
    members: queryMembers(index, resolved),
    ...(resolved.distinctFrom && resolved.distinctFrom !== 'time_spine' ? { distinctModel: resolved.distinctFrom.name } : {}),
  };
}

function columnType(index: CatalogIndex, g: ResolvedGroupBy): string {
  if (g.datePart) return 'number';
  if (g.type !== 'time') return g.type;
  if (g.customGrain) {
    const spine = (index.catalog.timeSpines ?? []).find((s) => s.customGranularities.some((c) => c.name === g.customGrain));
    return spine && GRAINS.indexOf(spine.grain) < GRAINS.indexOf('DAY') ? 'timestamp' : 'date';
  }
  return ['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'].includes(g.grain ?? 'DAY') ? 'date' : 'timestamp';
}
