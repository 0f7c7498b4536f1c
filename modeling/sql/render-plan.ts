import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { nodeColumns, subqueryKey, type MetricPlan, type PlanValue } from '../query/metric-plan.ts';
import { distinctValuesSql } from './distinct-values-sql.ts';
import type { MetricSubquery } from './node-scope.ts';
import { nodeSql } from './node-sql.ts';
import { POSTGRES_DIALECT, type SqlDialect } from './dialect.ts';
import { rollupReadSql } from './rollup-sql.ts';

/**
 * The SQL of a metric plan: each node aggregated at its own grain in a CTE, the CTEs
 * combined on the requested dimensions (NULL is a group like any other), and each metric's
 * value evaluated over the combined columns; then the order and `LIMIT fetchLimit`.
 */
export function renderPlan(index: CatalogIndex, plan: MetricPlan, fetchLimit: number, dialect: SqlDialect = POSTGRES_DIALECT): RawBuilder<unknown> {
  return sql`${planStatement(index, plan, dialect)} ${orderBy(plan)} LIMIT ${fetchLimit} OFFSET ${plan.query.offset}`;
}

/** The statement of a plan without order and limit: usable as a subquery (experiment results read per-customer metric values through it). */
export function planStatement(index: CatalogIndex, plan: MetricPlan, dialect: SqlDialect = POSTGRES_DIALECT): RawBuilder<unknown> {
  const subqueries = new Map(plan.subqueries.map((s) => [subqueryKey(s.metric, s.groupBy), s.plan]));
  const subquery: MetricSubquery = (metric, groupBy) => {
    const found = subqueries.get(subqueryKey(metric, groupBy));
    if (!found) throw new Error(`plan invariant: no subquery planned for metric filter '${metric}'`);
    return planStatement(index, found, dialect);
  };
  const { query } = plan;
  if (query.distinctFrom) return distinctValuesSql(index, query, subquery);
  if (plan.rollup) {
    const select = [
      ...query.groupBy.map((g, i) => sql`${sql.ref(`combined.g${i}`)} AS ${sql.id(g.column)}`),
      ...plan.metrics.map((m) => sql`${valueSql(m.value)} AS ${sql.id(m.name)}`),
    ];
    return sql`WITH ${sql.id('rollup')} AS (${rollupReadSql(index, plan.rollup)}) SELECT ${sql.join(select)} FROM ${sql.id('rollup')} AS combined`;
  }
  const ctes = plan.nodes.map(
    (node) => sql`${sql.id(node.id)} AS (${nodeSql(index, query, node, `${node.id}_`, { rewrites: plan.fastShapes, subquery, dialect })})`,
  );
  const select = [
    ...query.groupBy.map((g, i) => sql`${sql.ref(`combined.g${i}`)} AS ${sql.id(g.column)}`),
    ...plan.metrics.map((m) => sql`${valueSql(m.value)} AS ${sql.id(m.name)}`),
  ];
  return sql`WITH ${sql.join(ctes)} SELECT ${sql.join(select)} FROM ${combined(plan, query.groupBy.length)}`;
}

const NUMBER_LITERAL = /^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * A metric value over the combined node columns. Literals are emitted as written (`1.0` is a
 * numeric, `2` an integer) and every division casts its dividend to numeric. Every operation is parenthesized, so
 * `- -1` never becomes a `--` comment and precedence is the tree's.
 */
export function valueSql(value: PlanValue): RawBuilder<unknown> {
  switch (value.kind) {
    case 'column':
      return sql.ref(`combined.${value.column}`);
    case 'number': {
      // Literal text was checked by the planner (digits, one dot, an exponent): as written, it keeps its type.
      const negative = value.text.startsWith('-');
      if (!NUMBER_LITERAL.test(negative ? value.text.slice(1) : value.text)) throw new Error(`plan invariant: '${value.text}' is not a number literal`);
      return negative ? sql`(${sql.raw(value.text)})` : sql.raw(value.text);
    }
    case 'negate':
      return sql`(-${valueSql(value.operand)})`;
    case 'binary':
      // Division is numeric, as a ratio metric's: two integer aggregates never divide as integers.
      return value.op === '/'
        ? sql`(CAST(${valueSql(value.left)} AS numeric) / ${valueSql(value.right)})`
        : sql`(${valueSql(value.left)} ${sql.raw(value.op)} ${valueSql(value.right)})`;
    case 'call':
      return sql`${sql.raw(value.fn)}(${sql.join(value.args.map(valueSql))})`;
    case 'ratio':
      return sql`(CAST(${valueSql(value.numerator)} AS numeric) / NULLIF(${valueSql(value.denominator)}, 0))`;
    case 'fill':
      return sql`COALESCE(${valueSql(value.value)}, ${sql.lit(value.fill)})`;
  }
}

/** One node as is; several nodes stacked and collapsed per group, so each group appears once. */
function combined(plan: MetricPlan, groupCount: number): RawBuilder<unknown> {
  const groups = Array.from({ length: groupCount }, (_, i) => sql.id(`g${i}`));
  const [only] = plan.nodes;
  if (only && plan.nodes.length === 1) return sql`${sql.id(only.id)} AS combined`;
  const owner = new Map(plan.nodes.flatMap((node) => nodeColumns(node).map((c) => [c, node.id] as const)));
  const all = [...owner.keys()];
  // A column absent from a branch is a NULL of that column's type: an empty scalar subquery.
  const typedNull = (c: string) => sql`(SELECT ${sql.id(c)} FROM ${sql.id(owner.get(c) as string)} LIMIT 0) AS ${sql.id(c)}`;
  const branches = plan.nodes.map((node) => {
    const own = new Set(nodeColumns(node));
    const values = all.map((c) => (own.has(c) ? sql.id(c) : typedNull(c)));
    return sql`SELECT ${sql.join([...groups, ...values])} FROM ${sql.id(node.id)}`;
  });
  const collapsed = [...groups, ...all.map((c) => sql`MAX(${sql.id(c)}) AS ${sql.id(c)}`)];
  const groupBy = groupCount > 0 ? sql`GROUP BY ${sql.join(groups)}` : sql``;
  return sql`(SELECT ${sql.join(collapsed)} FROM (${sql.join(branches, sql` UNION ALL `)}) AS stacked ${groupBy}) AS combined`;
}

/**
 * The requested order, then every group-by not in it: rows that tie on the requested order
 * come in one order whatever plan the database picks (a statement split by periods returns
 * them in another order than one aggregate), so pages by `offset` never skip or repeat a row.
 */
function orderBy(plan: MetricPlan): RawBuilder<unknown> {
  const ordered = new Set(plan.query.orderBy.map((o) => o.column));
  const explicit = plan.query.orderBy.map((o) => sql`${sql.id(o.column)} ${sql.raw(o.descending ? 'DESC' : 'ASC')}`);
  const ties = plan.query.groupBy.filter((g) => !ordered.has(g.column)).map((g) => sql`${sql.id(g.column)}`);
  const all = [...explicit, ...ties];
  return all.length > 0 ? sql`ORDER BY ${sql.join(all)}` : sql``;
}
