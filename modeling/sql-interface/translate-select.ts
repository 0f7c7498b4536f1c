import type { Filter } from '../catalog/types.ts';
import type { GroupByInput, MetricQuery } from '../query/metric-query.ts';
import { translateLevel } from './select-level.ts';
import { type Ast, type Binding, type OutputType, type SqlParameters, sameBinding } from './select-scope.ts';
import type { SqlTable } from './semantic-tables.ts';
import { SqlInterfaceError, SUPPORTED_SQL } from './sql-error.ts';

export type { OutputType, SqlParameters } from './select-scope.ts';

/** One column of the answer: where its values come from in the metric result, and its type. */
export interface OutputColumn {
  readonly name: string;
  /** `metric`: the metric's result column; `group`: the group-by at this index. */
  readonly source: { readonly kind: 'metric'; readonly metric: string } | { readonly kind: 'group'; readonly index: number };
  readonly type: OutputType;
}

/** A SELECT over a semantic table as one metric query. */
export interface TranslatedSelect {
  readonly table: string;
  readonly query: MetricQuery;
  readonly columns: readonly OutputColumn[];
  /** The statement can have no rows (`LIMIT 0`, `WHERE false`): answer its columns without running it. */
  readonly empty: boolean;
}

/**
 * Translates one parsed SELECT over a semantic table into a metric query of the semantic
 * layer. Nothing of the statement reaches the database as text: only catalog names (checked
 * here and again by the compiler) and literal values (compared through the filter language).
 * Throws `SqlInterfaceError` with a SQLSTATE for anything it does not support.
 *
 * ```ts
 * const [{ stmt }] = parseSync("SELECT customer__risk_level, MEASURE(purchase_amount) FROM transaction GROUP BY 1").stmts;
 * translateSelect(stmt.SelectStmt, semanticTables(index), []).query;
 * // { metrics: ['purchase_amount'], groupBy: [{ dimension: 'customer.risk_level' }] }
 * ```
 */
export function translateSelect(select: Ast, tables: ReadonlyMap<string, SqlTable>, parameters: SqlParameters): TranslatedSelect {
  const level = translateLevel(select, tables, parameters);
  let grouping = level.groupBy;
  let orderBy = level.orderBy;
  let limit = level.limit;
  let offset = level.offset;
  const inner = level.relation.inner;
  if (inner) {
    if (grouping === undefined && inner.groupBy !== undefined) grouping = inner.groupBy;
    const outerShapes = level.orderBy.length > 0 || level.limit !== undefined || level.offset !== undefined;
    const innerShapes = inner.orderBy.length > 0 || inner.limit !== undefined || inner.offset !== undefined;
    if (innerShapes && outerShapes)
      throw new SqlInterfaceError('0A000', 'ORDER BY, LIMIT or OFFSET both inside and outside a subquery cannot be reduced to one metric query', SUPPORTED_SQL);
    if (innerShapes) ({ orderBy, limit, offset } = inner);
  }
  const targets = level.targets;
  if (grouping === undefined) grouping = targets.map((t) => t.binding).filter((b) => b.kind === 'dimension');
  else {
    for (const target of targets) {
      if (target.binding.kind !== 'dimension') continue;
      if (!grouping.some((g) => sameBinding(g, target.binding)))
        throw new SqlInterfaceError('42803', `column "${target.name}" must appear in the GROUP BY clause or be used in an aggregate function`);
    }
  }
  const groupBy: Binding[] = [];
  for (const g of grouping) if (!groupBy.some((x) => sameBinding(x, g))) groupBy.push(g);
  const metrics = [...new Set(targets.flatMap((t) => (t.binding.kind === 'metric' ? [t.binding.metric] : [])))];
  for (const o of orderBy) {
    const table = level.relation.table;
    if (table.byName.get(o.field)?.kind === 'metric' && !metrics.includes(o.field)) metrics.push(o.field);
  }
  if (metrics.length === 0 && groupBy.length === 0) throw new SqlInterfaceError('0A000', 'select at least one dimension or metric column', SUPPORTED_SQL);
  const where = [...(inner?.where ?? []), ...level.where];
  const query: MetricQuery = {
    metrics,
    ...(groupBy.length > 0
      ? {
          groupBy: groupBy.map(
            (g): GroupByInput => (g.kind === 'dimension' ? { dimension: g.dimension, ...(g.grain ? { grain: g.grain } : {}) } : { dimension: '' }),
          ),
        }
      : {}),
    ...(where.length === 1 ? { where: where[0] as Filter } : where.length > 1 ? { where: { kind: 'and', filters: where } } : {}),
    ...(orderBy.length > 0 ? { orderBy } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(offset !== undefined && offset > 0 ? { offset } : {}),
  };
  const columns = targets.map((t): OutputColumn => {
    const b = t.binding;
    if (b.kind === 'metric') return { name: t.name, source: { kind: 'metric', metric: b.metric }, type: b.type };
    return { name: t.name, source: { kind: 'group', index: groupBy.findIndex((g) => sameBinding(g, b)) }, type: b.type };
  });
  return { table: level.relation.table.name, query, columns, empty: level.empty || (inner?.empty ?? false) };
}
