/** What an expression of the select list, GROUP BY or ORDER BY stands for: a column, MEASURE() or an aggregate, CAST, date_trunc. */
import { closestNames } from '../query/suggest.ts';
import { type Ast, type Binding, type OutputType, type Scope, stringOf } from './select-scope.ts';
import { SQL_TIME_GRAINS } from './semantic-tables.ts';
import { SqlInterfaceError, SUPPORTED_SQL } from './sql-error.ts';
import { constantOf } from './sql-literals.ts';

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

/** What an expression of the select list (or GROUP BY, ORDER BY) stands for. */
export function expressionOf(node: Ast, scope: Scope): Binding {
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

/** The column name PostgreSQL gives an unaliased expression. */
export function defaultName(node: Ast): string {
  if (node.ColumnRef) return stringOf(node.ColumnRef.fields.at(-1)) ?? '?column?';
  if (node.FuncCall) return stringOf(node.FuncCall.funcname.at(-1)) ?? '?column?';
  if (node.TypeCast) {
    const inner = defaultName(node.TypeCast.arg);
    return inner === '?column?' ? (stringOf(node.TypeCast.typeName.names.at(-1)) ?? inner) : inner;
  }
  return '?column?';
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
