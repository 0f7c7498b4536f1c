/** A WHERE condition as a filter of the closed filter language: comparisons, IN, BETWEEN, LIKE prefixes, IS NULL, AND/OR/NOT. */
import type { Filter, FilterOp } from '../catalog/types.ts';
import { expressionOf } from './select-expression.ts';
import { type Ast, type Scope, stringOf } from './select-scope.ts';
import { SqlInterfaceError, SUPPORTED_SQL } from './sql-error.ts';
import { constantOf, isConstant, normalizeTemporal } from './sql-literals.ts';

const COMPARISONS: Readonly<Record<string, readonly [FilterOp, FilterOp]>> = {
  '=': ['EQ', 'EQ'],
  '<>': ['NEQ', 'NEQ'],
  '!=': ['NEQ', 'NEQ'],
  '<': ['LT', 'GT'],
  '<=': ['LTE', 'GTE'],
  '>': ['GT', 'LT'],
  '>=': ['GTE', 'LTE'],
};

/** A WHERE condition as a filter; `true`/`false` for constant conditions (`1 = 1`, `WHERE false`). */
export function whereFilter(node: Ast, scope: Scope): Filter | boolean {
  if (node.BoolExpr) {
    const parts = (node.BoolExpr.args as Ast[]).map((a) => whereFilter(a, scope));
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
  return expressionFilter(expr, scope);
}

/** An operator expression (`A_Expr`): a comparison, IN, BETWEEN or LIKE. */
function expressionFilter(expr: Ast, scope: Scope): Filter | boolean {
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
