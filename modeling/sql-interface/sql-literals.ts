/** Literal values and parameters of a statement as text, timestamps as BI tools write them compared as dates. */
import { type Ast, type SqlParameters, stringOf } from './select-scope.ts';
import { SqlInterfaceError, SUPPORTED_SQL } from './sql-error.ts';

/** A literal (or parameter) as text; null for NULL. */
export function constantOf(node: Ast, parameters: SqlParameters): string | null {
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

/** Whether a node is a value `constantOf` reads: a literal, a parameter, a cast or TO_TIMESTAMP of one. */
export function isConstant(node: Ast): boolean {
  const name = stringOf(node?.FuncCall?.funcname?.at(-1))?.toLowerCase();
  return Boolean(
    node?.A_Const ||
      node?.ParamRef ||
      (node?.TypeCast && isConstant(node.TypeCast.arg)) ||
      ((name === 'to_timestamp' || name === 'to_date') && isConstant(node.FuncCall.args?.[0])),
  );
}

/** A LIMIT or OFFSET value; null for `LIMIT ALL` or NULL. */
export function integerOf(node: Ast, clause: string, parameters: SqlParameters): number | null {
  if (node.A_Const?.isnull) return null;
  const text = constantOf(node, parameters);
  if (text === null) return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new SqlInterfaceError('22023', `${clause} must be a non-negative integer`);
  return value;
}

/** `2026-01-01 00:00:00` (as BI tools write timestamps) compares as the date `2026-01-01`. */
export function normalizeTemporal(text: string | null): string | null {
  if (text === null) return null;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:Z|[+-]00(?::?00)?)?$/.exec(text.trim());
  if (!match) return text;
  return /^00:00:00(?:\.0+)?$/.test(match[2] as string) ? (match[1] as string) : `${match[1]}T${match[2]}`;
}
