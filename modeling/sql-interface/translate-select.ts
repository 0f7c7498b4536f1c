import type { Filter, FilterOp, Grain } from '../catalog/types.ts';
import type { GroupByInput, MetricQuery, OrderByInput } from '../query/metric-query.ts';
import { grainSuffix, parseDimensionRef, refBaseName } from '../catalog/dimension-ref.ts';
import { closestNames } from '../query/suggest.ts';
import { SQL_TIME_GRAINS, type SqlColumnType, type SqlTable } from './semantic-tables.ts';
import { SqlInterfaceError, SUPPORTED_SQL } from './sql-error.ts';

/** A node of libpg-query's JSON AST (PostgreSQL's own parse tree). */
type Ast = any;

/** The PostgreSQL types a result column can have (after a CAST). */
export type OutputType = SqlColumnType | 'integer' | 'bigint' | 'double precision' | 'timestamp' | 'character varying';

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

/** Parameter values of the extended protocol (`$1` is index 0), as text; null is SQL NULL. */
export type SqlParameters = readonly (string | null)[];

/** What an expression of the select list stands for. */
type Binding =
  | { readonly kind: 'dimension'; readonly dimension: string; readonly grain?: Grain; readonly type: OutputType }
  | { readonly kind: 'metric'; readonly metric: string; readonly type: OutputType; readonly aggregated: boolean };

interface Target {
  readonly name: string;
  readonly binding: Binding;
  readonly node: Ast;
}

/** The columns a FROM item offers: a semantic table, or the output of a subquery over one. */
interface Relation {
  readonly table: SqlTable;
  readonly alias: string | undefined;
  readonly columns: ReadonlyMap<string, Binding>;
  /** What the subquery adds: its filters, and its grouping, order and limit when it aggregates. */
  readonly inner?: Level;
}

/** One SELECT level reduced to metric-query parts. */
interface Level {
  readonly relation: Relation;
  readonly targets: readonly Target[];
  readonly groupBy: readonly Binding[] | undefined;
  readonly where: readonly Filter[];
  readonly orderBy: readonly OrderByInput[];
  readonly limit: number | undefined;
  readonly offset: number | undefined;
  readonly empty: boolean;
}

const AGGREGATES = new Set(['measure', 'sum', 'avg', 'min', 'max', 'count', 'any_value', 'first', 'last']);

const CAST_TYPES: Readonly<Record<string, OutputType>> = {
  text: 'text',
  varchar: 'character varying',
  bpchar: 'text',
  char: 'text',
  numeric: 'numeric',
  decimal: 'numeric',
  int2: 'integer',
  int4: 'integer',
  integer: 'integer',
  int: 'integer',
  int8: 'bigint',
  bigint: 'bigint',
  float4: 'double precision',
  float8: 'double precision',
  real: 'double precision',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamp',
  bool: 'boolean',
  boolean: 'boolean',
};

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

function translateLevel(select: Ast, tables: ReadonlyMap<string, SqlTable>, parameters: SqlParameters): Level {
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
  const condition = select.whereClause ? filterOf(select.whereClause, scope) : true;
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

interface Scope {
  readonly relation: Relation;
  readonly parameters: SqlParameters;
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

/** The column name PostgreSQL gives an unaliased expression. */
function defaultName(node: Ast): string {
  if (node.ColumnRef) return stringOf(node.ColumnRef.fields.at(-1)) ?? '?column?';
  if (node.FuncCall) return stringOf(node.FuncCall.funcname.at(-1)) ?? '?column?';
  if (node.TypeCast) {
    const inner = defaultName(node.TypeCast.arg);
    return inner === '?column?' ? (stringOf(node.TypeCast.typeName.names.at(-1)) ?? inner) : inner;
  }
  return '?column?';
}

function stringOf(node: Ast): string | undefined {
  return node?.String?.sval;
}

function columnOf(node: Ast, scope: Scope): { name: string; binding: Binding } {
  const fields: string[] = node.ColumnRef.fields.map((f: Ast) => stringOf(f) ?? '*');
  const name = fields.at(-1) as string;
  const qualifier = fields.slice(0, -1);
  const relation = scope.relation;
  const table = relation.table.name;
  if (qualifier.length > 0) {
    const q = qualifier.at(-1);
    const ok = q === relation.alias || (relation.inner === undefined && (q === table || (qualifier.length >= 2 && q === table)));
    if (!ok) throw new SqlInterfaceError('42P01', `missing FROM-clause entry for table "${q}"`);
  }
  const binding = relation.columns.get(name);
  if (!binding) {
    const close = closestNames(name, relation.columns.keys());
    throw new SqlInterfaceError(
      '42703',
      `column "${name}" does not exist in ${relation.inner ? 'the subquery' : `table "${table}"`}`,
      close.length > 0 ? `Did you mean ${close.map((c) => `"${c}"`).join(' or ')}?` : `See the table's columns with \\d ${table}.`,
    );
  }
  return { name, binding };
}

/** What an expression of the select list (or GROUP BY, ORDER BY) stands for. */
function expressionOf(node: Ast, scope: Scope): Binding {
  if (node?.ColumnRef) return columnOf(node, scope).binding;
  if (node?.TypeCast) {
    const type = castType(node.TypeCast.typeName);
    const inner = expressionOf(node.TypeCast.arg, scope);
    return { ...inner, type };
  }
  if (node?.FuncCall) {
    const call = node.FuncCall;
    const name = stringOf(call.funcname.at(-1))?.toLowerCase() ?? '';
    if (name === 'date_trunc') return truncated(call, scope);
    if (AGGREGATES.has(name)) {
      if (call.agg_star) throw new SqlInterfaceError('0A000', `${name}(*) is not supported: count with a metric (e.g. MEASURE(new_customers))`, SUPPORTED_SQL);
      if (call.over) throw new SqlInterfaceError('0A000', 'window functions are not supported', SUPPORTED_SQL);
      if ((call.args ?? []).length !== 1) throw new SqlInterfaceError('42883', `${name} takes one metric column`);
      const inner = expressionOf(call.args[0], scope);
      if (inner.kind !== 'metric')
        throw new SqlInterfaceError(
          '0A000',
          `${name}() over a dimension is not supported: aggregates read metric columns (MEASURE(metric) or e.g. SUM(metric) mean the metric)`,
          SUPPORTED_SQL,
        );
      return { ...inner, aggregated: true };
    }
    throw new SqlInterfaceError('42883', `function ${name}() is not supported over the semantic tables`, SUPPORTED_SQL);
  }
  throw new SqlInterfaceError(
    '0A000',
    'only columns, MEASURE(), aggregates over metric columns, CAST and date_trunc are supported in the select list',
    SUPPORTED_SQL,
  );
}

/** `date_trunc('month', metric_time__day)`: the same time column at a coarser grain. */
function truncated(call: Ast, scope: Scope): Binding {
  const [unit, arg] = call.args ?? [];
  const grainText = constantOf(unit, scope.parameters);
  const grain = SQL_TIME_GRAINS.find((g) => g.toLowerCase() === grainText?.toLowerCase());
  const inner = arg ? expressionOf(arg, scope) : undefined;
  if (!grain || !inner || inner.kind !== 'dimension' || !inner.grain)
    throw new SqlInterfaceError('0A000', `date_trunc takes 'day', 'week', 'month', 'quarter' or 'year' and a time column`, SUPPORTED_SQL);
  return { kind: 'dimension', dimension: inner.dimension, grain, type: inner.type === 'date' ? 'timestamp' : inner.type };
}

function castType(typeName: Ast): OutputType {
  const name = stringOf(typeName.names.at(-1)) ?? '';
  const type = CAST_TYPES[name];
  if (!type)
    throw new SqlInterfaceError(
      '0A000',
      `CAST to ${name} is not supported; cast to text, numeric, integer, bigint, double precision, date, timestamp or boolean`,
    );
  return type;
}

function sameBinding(a: Binding, b: Binding): boolean {
  if (a.kind === 'metric') return b.kind === 'metric' && a.metric === b.metric;
  return b.kind === 'dimension' && a.dimension === b.dimension && a.grain === b.grain;
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

function integerOf(node: Ast, clause: string, parameters: SqlParameters): number | null {
  if (node.A_Const?.isnull) return null;
  const text = constantOf(node, parameters);
  if (text === null) return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new SqlInterfaceError('22023', `${clause} must be a non-negative integer`);
  return value;
}

/** A literal (or parameter) as text; null for NULL. */
function constantOf(node: Ast, parameters: SqlParameters): string | null {
  if (node?.A_Const) {
    const c = node.A_Const;
    if (c.isnull) return null;
    if (c.sval) return c.sval.sval ?? '';
    if (c.ival) return String(c.ival.ival ?? 0);
    if (c.fval) return c.fval.fval ?? '0';
    if (c.boolval) return c.boolval.boolval ? 'true' : 'false';
    if (c.bsval) return c.bsval.bsval;
  }
  if (node?.ParamRef) {
    const number = node.ParamRef.number ?? 0;
    if (number < 1 || number > parameters.length) throw new SqlInterfaceError('42P02', `there is no parameter $${number}`);
    return parameters[number - 1] ?? null;
  }
  if (node?.TypeCast) return normalizeTemporal(constantOf(node.TypeCast.arg, parameters));
  // Superset writes time bounds as TO_TIMESTAMP('2026-01-01 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US').
  const name = stringOf(node?.FuncCall?.funcname?.at(-1))?.toLowerCase();
  if ((name === 'to_timestamp' || name === 'to_date') && node.FuncCall.args?.length >= 1)
    return normalizeTemporal(constantOf(node.FuncCall.args[0], parameters));
  throw new SqlInterfaceError('0A000', 'comparisons must be with literal values or parameters', SUPPORTED_SQL);
}

/** `2026-01-01 00:00:00` (as BI tools write timestamps) compares as the date `2026-01-01`. */
function normalizeTemporal(text: string | null): string | null {
  if (text === null) return null;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:Z|[+-]00(?::?00)?)?$/.exec(text.trim());
  if (!match) return text;
  return /^00:00:00(?:\.0+)?$/.test(match[2] as string) ? (match[1] as string) : `${match[1]}T${match[2]}`;
}

const COMPARISONS: Readonly<Record<string, readonly [FilterOp, FilterOp]>> = {
  '=': ['EQ', 'EQ'],
  '<>': ['NEQ', 'NEQ'],
  '!=': ['NEQ', 'NEQ'],
  '<': ['LT', 'GT'],
  '<=': ['LTE', 'GTE'],
  '>': ['GT', 'LT'],
  '>=': ['GTE', 'LTE'],
};

function isConstant(node: Ast): boolean {
  const name = stringOf(node?.FuncCall?.funcname?.at(-1))?.toLowerCase();
  return Boolean(
    node?.A_Const ||
      node?.ParamRef ||
      (node?.TypeCast && isConstant(node.TypeCast.arg)) ||
      ((name === 'to_timestamp' || name === 'to_date') && isConstant(node.FuncCall.args?.[0])),
  );
}

/** A WHERE condition as a filter; `true`/`false` for constant conditions (`1 = 1`, `WHERE false`). */
function filterOf(node: Ast, scope: Scope): Filter | boolean {
  if (node.BoolExpr) {
    const parts = (node.BoolExpr.args as Ast[]).map((a) => filterOf(a, scope));
    if (node.BoolExpr.boolop === 'NOT_EXPR') {
      const [part] = parts;
      return typeof part === 'boolean' ? !part : { kind: 'not', filter: part as Filter };
    }
    const and = node.BoolExpr.boolop === 'AND_EXPR';
    if (parts.includes(!and)) return !and;
    const filters = parts.filter((p): p is Filter => typeof p !== 'boolean');
    if (filters.length === 0) return and;
    return filters.length === 1 ? (filters[0] as Filter) : { kind: and ? 'and' : 'or', filters };
  }
  if (node.A_Const?.boolval !== undefined) return Boolean(node.A_Const.boolval.boolval);
  if (node.TypeCast?.arg?.A_Const) return ['true', 't'].includes(constantOf(node, scope.parameters) ?? '');
  if (node.NullTest) return leaf(node.NullTest.arg, node.NullTest.nulltesttype === 'IS_NULL' ? 'IS_NULL' : 'IS_NOT_NULL', [], scope);
  if (node.ColumnRef) return leaf(node, 'EQ', ['true'], scope);
  const expr = node.A_Expr;
  if (!expr) throw new SqlInterfaceError('0A000', 'this WHERE condition is not supported', SUPPORTED_SQL);
  const op = stringOf(expr.name?.[0]) ?? '';
  const values = (list: Ast): string[] =>
    (list.List?.items ?? [list]).map((v: Ast) => {
      const value = constantOf(v, scope.parameters);
      if (value === null) throw new SqlInterfaceError('0A000', 'NULL in a list or comparison never matches; use IS NULL', SUPPORTED_SQL);
      return value;
    });
  switch (expr.kind) {
    case 'AEXPR_OP': {
      const pair = COMPARISONS[op];
      if (!pair) throw new SqlInterfaceError('0A000', `operator ${op} is not supported in WHERE`, SUPPORTED_SQL);
      if (isConstant(expr.lexpr) && isConstant(expr.rexpr)) {
        if (op !== '=' && op !== '<>' && op !== '!=')
          throw new SqlInterfaceError('0A000', 'comparisons between two constants are supported with = and <> only');
        const same = constantOf(expr.lexpr, scope.parameters) === constantOf(expr.rexpr, scope.parameters);
        return op === '=' ? same : !same;
      }
      const flipped = isConstant(expr.lexpr);
      const column = flipped ? expr.rexpr : expr.lexpr;
      const constant = flipped ? expr.lexpr : expr.rexpr;
      return leaf(column, flipped ? pair[1] : pair[0], values(constant), scope);
    }
    case 'AEXPR_IN':
      return leaf(expr.lexpr, op === '=' ? 'IN' : 'NOT_IN', values(expr.rexpr), scope);
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN': {
      const between = leaf(expr.lexpr, 'BETWEEN', values(expr.rexpr), scope);
      return expr.kind === 'AEXPR_BETWEEN' ? between : { kind: 'not', filter: between };
    }
    case 'AEXPR_LIKE': {
      const [pattern] = values(expr.rexpr);
      const like = likeFilter(expr.lexpr, pattern as string, scope);
      return op === '~~' ? like : { kind: 'not', filter: like };
    }
    default:
      throw new SqlInterfaceError('0A000', 'this WHERE condition is not supported', SUPPORTED_SQL);
  }
}

/** `LIKE 'x%'` starts with, `LIKE '%x%'` contains; other patterns are refused. */
function likeFilter(column: Ast, pattern: string, scope: Scope): Filter {
  const body = pattern.replace(/^%/, '').replace(/%$/, '');
  if (/[%_\\]/.test(body) || !pattern.endsWith('%') || body.length === 0)
    throw new SqlInterfaceError(
      '0A000',
      `LIKE '${pattern}' is not supported: use a prefix ('x%') or a substring ('%x%') without other wildcards`,
      SUPPORTED_SQL,
    );
  return leaf(column, pattern.startsWith('%') ? 'CONTAINS' : 'STARTS_WITH', [body], scope);
}

function leaf(node: Ast, op: FilterOp, values: readonly string[], scope: Scope): Filter {
  const binding = expressionOf(node, scope);
  if (binding.kind !== 'dimension')
    throw new SqlInterfaceError('0A000', 'WHERE filters dimension columns only; filters on metric values (HAVING) are not supported', SUPPORTED_SQL);
  return {
    kind: 'compare',
    dimension: binding.dimension,
    ...(binding.grain ? { grain: binding.grain } : {}),
    op,
    values: binding.type === 'date' || binding.type === 'timestamp' ? values.map((v) => normalizeTemporal(v) as string) : values,
  };
}
