import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { GRAINS } from '../catalog/types.ts';
import { resolveQuery, type ResolvedGroupBy, type ResolvedQuery } from '../query/resolve-query.ts';
import type { MetricQuery } from '../query/metric-query.ts';
import type { MetricSubquery } from '../sql/node-scope.ts';
import { MetricPlanner, nodeColumns } from './metric-planner.ts';
import { nodeSql } from '../sql/node-sql.ts';
import { distinctValuesSql } from '../sql/distinct-values-sql.ts';
import { sqlCompiler } from '../sql/sql-compiler.ts';
import { queryMembers, type QueryMember } from '../query/query-members.ts';

export interface ResultColumn {
  readonly name: string;
  readonly kind: 'DIMENSION' | 'METRIC';
  /** `string`, `number`, `boolean`, `date` (YYYY-MM-DD) or `timestamp`. */
  readonly type: string;
}

export interface CompiledMetricQuery {
  readonly columns: readonly ResultColumn[];
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
}

export function compileMetricQuery(index: CatalogIndex, query: MetricQuery, options: CompileOptions): CompiledMetricQuery {
  const resolved = resolveQuery(index, query);
  const wanted = resolved.limit ?? Infinity;
  const fetchLimit = Math.min(wanted, options.maxRows + 1);
  const body = metricStatement(index, resolved, options.rewrites !== false);
  const statement = sql`${body} ${orderBy(resolved)} LIMIT ${fetchLimit} OFFSET ${resolved.offset}`;
  return {
    columns: [
      ...resolved.groupBy.map((g): ResultColumn => ({ name: g.column, kind: 'DIMENSION', type: columnType(index, g) })),
      ...resolved.metrics.map((m): ResultColumn => ({ name: m.name, kind: 'METRIC', type: 'number' })),
    ],
    compiled: statement.compile(sqlCompiler) as CompiledQuery<Record<string, unknown>>,
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

/** The statement of a resolved query without order and limit: usable as a subquery. */
function metricStatement(index: CatalogIndex, resolved: ResolvedQuery, rewrites: boolean): RawBuilder<unknown> {
  const subquery: MetricSubquery = (metric, groupBy) =>
    metricStatement(
      index,
      resolveQuery(index, { metrics: [metric], groupBy: groupBy.map((dimension) => ({ dimension })), ...(resolved.scope ? { scope: resolved.scope } : {}) }),
      rewrites,
    );
  if (resolved.distinctFrom) return distinctValuesSql(index, resolved, subquery);
  const planner = new MetricPlanner(index, (column) => sql.ref(`combined.${column}`), { sharePasses: rewrites });
  const metricExprs = resolved.metrics.map((m) => planner.expression(m, resolved.where ? [resolved.where] : [], []));
  const ctes = planner.nodes.map((node, i) => sql`${sql.id(`n${i}`)} AS (${nodeSql(index, resolved, node, `n${i}_`, { rewrites, subquery })})`);
  const select = [
    ...resolved.groupBy.map((g, i) => sql`${sql.ref(`combined.g${i}`)} AS ${sql.id(g.column)}`),
    ...resolved.metrics.map((m, i) => sql`${metricExprs[i]} AS ${sql.id(m.name)}`),
  ];
  return sql`WITH ${sql.join(ctes)} SELECT ${sql.join(select)} FROM ${combined(planner, resolved.groupBy.length)}`;
}

/** One node as is; several nodes stacked and collapsed per group, so each group appears once. */
function combined(planner: MetricPlanner, groupCount: number): RawBuilder<unknown> {
  const groups = Array.from({ length: groupCount }, (_, i) => sql.id(`g${i}`));
  if (planner.nodes.length === 1) return sql`${sql.id('n0')} AS combined`;
  const owner = new Map(planner.nodes.flatMap((node, i) => nodeColumns(node).map((c) => [c, `n${i}`] as const)));
  const all = [...owner.keys()];
  // A column absent from a branch is a NULL of that column's type: an empty scalar subquery.
  const typedNull = (c: string) => sql`(SELECT ${sql.id(c)} FROM ${sql.id(owner.get(c) as string)} LIMIT 0) AS ${sql.id(c)}`;
  const branches = planner.nodes.map((node, i) => {
    const own = new Set(nodeColumns(node));
    const values = all.map((c) => (own.has(c) ? sql.id(c) : typedNull(c)));
    return sql`SELECT ${sql.join([...groups, ...values])} FROM ${sql.id(`n${i}`)}`;
  });
  const collapsed = [...groups, ...all.map((c) => sql`MAX(${sql.id(c)}) AS ${sql.id(c)}`)];
  const groupBy = groupCount > 0 ? sql`GROUP BY ${sql.join(groups)}` : sql``;
  return sql`(SELECT ${sql.join(collapsed)} FROM (${sql.join(branches, sql` UNION ALL `)}) AS stacked ${groupBy}) AS combined`;
}

function orderBy(query: ResolvedQuery): RawBuilder<unknown> {
  const explicit = query.orderBy.map((o) => sql`${sql.id(o.column)} ${sql.raw(o.descending ? 'DESC' : 'ASC')}`);
  const defaults = query.groupBy.map((g) => sql`${sql.id(g.column)}`);
  const all = explicit.length > 0 ? explicit : defaults;
  return all.length > 0 ? sql`ORDER BY ${sql.join(all)}` : sql``;
}
