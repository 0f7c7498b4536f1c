/** One SELECT level (the statement, or a subquery in its FROM) reduced to metric-query parts: relation, targets, grouping, filters, order, limit. */
import type { OrderByInput } from '../query/metric-query.ts';
import { grainSuffix, parseDimensionRef, refBaseName } from '../catalog/dimension-ref.ts';
import { closestNames } from '../query/suggest.ts';
import { defaultName, expressionOf } from './select-expression.ts';
import { type Ast, type Binding, type Level, type Relation, type Scope, type SqlParameters, stringOf, type Target } from './select-scope.ts';
import type { SqlTable } from './semantic-tables.ts';
import { SqlInterfaceError, SUPPORTED_SQL } from './sql-error.ts';
import { integerOf } from './sql-literals.ts';
import { whereFilter } from './where-filter.ts';

export function translateLevel(select: Ast, tables: ReadonlyMap<string, SqlTable>, parameters: SqlParameters): Level {
  refuseClauses(select);
  const from: Ast[] = select.fromClause ?? [];
  if (from.length !== 1)
    throw new SqlInterfaceError(
      '0A000',
      from.length === 0
        ? 'a SELECT over the semantic tables needs one FROM table'
        : 'joins are not supported: each model is one table with every dimension it reaches',
      SUPPORTED_SQL,
    );
  const relation = relationOf(from[0], tables, parameters);
  const scope: Scope = { relation, parameters };
  const targets = targetsOf(select.targetList ?? [], scope);
  const grouped = (select.groupClause ?? []).length > 0 || targets.some((t) => t.binding.kind === 'metric' && t.binding.aggregated);
  const groupBy = (select.groupClause ?? []).map((node: Ast) => groupItem(node, targets, scope));
  const distinct = Array.isArray(select.distinctClause);
  if (distinct && select.distinctClause.some((d: Ast) => d && Object.keys(d).length > 0))
    throw new SqlInterfaceError('0A000', 'DISTINCT ON is not supported; use GROUP BY', SUPPORTED_SQL);
  const condition = select.whereClause ? whereFilter(select.whereClause, scope) : true;
  const where = condition === true || condition === false ? [] : [condition];
  const limit = select.limitCount ? integerOf(select.limitCount, 'LIMIT', parameters) : undefined;
  const offset = select.limitOffset ? integerOf(select.limitOffset, 'OFFSET', parameters) : undefined;
  const orderBy = (select.sortClause ?? []).map((s: Ast) => orderItem(s, targets, scope));
  return {
    relation,
    targets,
    groupBy: grouped ? groupBy : undefined,
    where,
    orderBy,
    limit: limit ?? undefined,
    offset: offset ?? undefined,
    empty: condition === false || limit === 0,
  };
}

function refuseClauses(select: Ast): void {
  const refuse = (what: string) => {
    throw new SqlInterfaceError('0A000', `${what} is not supported over the semantic tables`, SUPPORTED_SQL);
  };
  if (select.op && select.op !== 'SETOP_NONE') refuse('UNION, INTERSECT and EXCEPT are');
  if (select.withClause) refuse('WITH');
  if (select.havingClause) refuse('HAVING (a filter on metric values)');
  if (select.windowClause) refuse('WINDOW');
  if (select.valuesLists) refuse('VALUES');
  if (select.intoClause) refuse('SELECT INTO');
  if (select.lockingClause) refuse('FOR UPDATE/SHARE');
}

function relationOf(item: Ast, tables: ReadonlyMap<string, SqlTable>, parameters: SqlParameters): Relation {
  if (item.RangeVar) {
    const { relname, schemaname } = item.RangeVar;
    const table = tables.get(relname);
    if (!table || (schemaname && schemaname !== 'public'))
      throw new SqlInterfaceError('42P01', `relation "${schemaname ? `${schemaname}.` : ''}${relname}" does not exist`, suggestTables(relname, tables));
    const columns = new Map<string, Binding>();
    for (const c of table.columns)
      columns.set(
        c.name,
        c.kind === 'metric'
          ? { kind: 'metric', metric: c.metric, type: 'double precision', aggregated: false }
          : { kind: 'dimension', dimension: c.dimension, ...(c.grain ? { grain: c.grain } : {}), type: c.type },
      );
    return { table, alias: item.RangeVar.alias?.aliasname ?? relname, columns };
  }
  if (item.RangeSubselect) {
    const subquery = item.RangeSubselect.subquery?.SelectStmt;
    if (!subquery || item.RangeSubselect.lateral) throw new SqlInterfaceError('0A000', 'this kind of subquery is not supported', SUPPORTED_SQL);
    const inner = translateLevel(subquery, tables, parameters);
    if (inner.relation.inner) throw new SqlInterfaceError('0A000', 'subqueries nested more than one level deep are not supported', SUPPORTED_SQL);
    const columns = new Map<string, Binding>();
    for (const t of inner.targets) {
      const b = t.binding;
      columns.set(t.name, b.kind === 'metric' ? { ...b, aggregated: false } : b);
    }
    return { table: inner.relation.table, alias: item.RangeSubselect.alias?.aliasname, columns, inner };
  }
  throw new SqlInterfaceError('0A000', 'FROM must name one semantic table or a subquery over one (no joins, functions or VALUES)', SUPPORTED_SQL);
}

function suggestTables(name: string, tables: ReadonlyMap<string, SqlTable>): string {
  const close = closestNames(name, tables.keys());
  return `${close.length > 0 ? `Did you mean ${close.map((c) => `"${c}"`).join(' or ')}? ` : ''}Tables: ${[...tables.keys()].join(', ')}.`;
}

function targetsOf(list: readonly Ast[], scope: Scope): Target[] {
  const targets: Target[] = [];
  for (const item of list) {
    const target = item.ResTarget;
    const fields: Ast[] | undefined = target.val?.ColumnRef?.fields;
    if (fields?.some((f) => f.A_Star)) {
      for (const [name, binding] of scope.relation.columns) targets.push({ name, binding, node: { ColumnRef: { fields: [{ String: { sval: name } }] } } });
      continue;
    }
    const binding = expressionOf(target.val, scope);
    targets.push({ name: target.name ?? defaultName(target.val), binding, node: target.val });
  }
  return targets;
}

/** A GROUP BY item: a position in the select list, an output name, a column or an expression of the select list. */
function groupItem(node: Ast, targets: readonly Target[], scope: Scope): Binding {
  const binding = referencedTarget(node, targets, scope, 'GROUP BY');
  if (binding.kind !== 'dimension') throw new SqlInterfaceError('42803', 'aggregate functions and metric columns are not allowed in GROUP BY');
  return binding;
}

function referencedTarget(node: Ast, targets: readonly Target[], scope: Scope, clause: string): Binding {
  if (node.A_Const?.ival !== undefined) {
    const position = node.A_Const.ival.ival ?? 0;
    const target = targets[position - 1];
    if (!target) throw new SqlInterfaceError('42P10', `${clause} position ${position} is not in select list`);
    return target.binding;
  }
  if (node.ColumnRef && node.ColumnRef.fields.length === 1) {
    const name = stringOf(node.ColumnRef.fields[0]);
    if (name !== undefined && !scope.relation.columns.has(name)) {
      const target = targets.find((t) => t.name === name);
      if (target) return target.binding;
    }
  }
  return expressionOf(node, scope);
}

function orderItem(node: Ast, targets: readonly Target[], scope: Scope): OrderByInput {
  const sort = node.SortBy;
  if (sort.sortby_nulls && sort.sortby_nulls !== 'SORTBY_NULLS_DEFAULT')
    throw new SqlInterfaceError('0A000', 'NULLS FIRST/LAST is not supported in ORDER BY', SUPPORTED_SQL);
  if (sort.sortby_dir === 'SORTBY_USING') throw new SqlInterfaceError('0A000', 'ORDER BY ... USING is not supported', SUPPORTED_SQL);
  const binding = referencedTarget(sort.node, targets, scope, 'ORDER BY');
  const direction = sort.sortby_dir === 'SORTBY_DESC' ? 'DESC' : 'ASC';
  if (binding.kind === 'metric') return { field: binding.metric, direction };
  return { field: resultColumn(binding), direction };
}

/** The metric result's column name of a group-by (`customer__risk_level`, `metric_time__month`). */
function resultColumn(binding: Extract<Binding, { kind: 'dimension' }>): string {
  const base = refBaseName(parseDimensionRef(binding.dimension, new Set()));
  const suffix = binding.grain ? grainSuffix({ grain: binding.grain }) : undefined;
  return suffix ? `${base}__${suffix}` : base;
}
