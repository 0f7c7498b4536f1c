import type { FilterOp } from '../catalog/types.ts';

export type ValueType = 'string' | 'number' | 'boolean' | 'time';
/** true, false, or unknown (null), as SQL's three-valued logic has it. */
export type Truth = boolean | null;

function cast(type: ValueType, text: string): string | number | boolean {
  if (type === 'number') return Number(text);
  if (type === 'boolean') return text.toLowerCase() === 'true';
  if (type === 'time') return Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  return text;
}

function normalize(type: ValueType, value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (type === 'number') return typeof value === 'number' ? value : Number(value);
  if (type === 'boolean') return typeof value === 'boolean' ? value : String(value).toLowerCase() === 'true';
  if (type === 'time') return value instanceof Date ? value.getTime() : Date.parse(String(value));
  return String(value);
}

/** Code-unit order, the order of PostgreSQL's "C" collation the SQL side uses. */
function order(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return Number(a) - Number(b);
}

/**
 * One comparison, evaluated in memory with the result SQL gives for the same values:
 * unknown (null) whenever the compared value is missing, except for the null tests.
 */
export function compare(type: ValueType, raw: unknown, op: FilterOp, texts: readonly string[]): Truth {
  const value = normalize(type, raw);
  if (op === 'IS_NULL') return value === null;
  if (op === 'IS_NOT_NULL') return value !== null;
  if (value === null) return null;
  const values = texts.map((t) => cast(type, t));
  const first = values[0] as string | number | boolean;
  switch (op) {
    case 'EQ':
      return order(value, first) === 0;
    case 'NEQ':
      return order(value, first) !== 0;
    case 'GT':
      return order(value, first) > 0;
    case 'GTE':
      return order(value, first) >= 0;
    case 'LT':
      return order(value, first) < 0;
    case 'LTE':
      return order(value, first) <= 0;
    case 'IN':
      return values.some((v) => order(value, v) === 0);
    case 'NOT_IN':
      return !values.some((v) => order(value, v) === 0);
    case 'BETWEEN':
      return order(value, first) >= 0 && order(value, values[1] as string | number | boolean) <= 0;
    case 'CONTAINS':
      return String(raw).includes(texts[0] ?? '');
    case 'STARTS_WITH':
      return String(raw).startsWith(texts[0] ?? '');
  }
}

/** SQL's AND over three-valued truths. */
export function all(truths: readonly Truth[]): Truth {
  if (truths.some((t) => t === false)) return false;
  return truths.some((t) => t === null) ? null : true;
}

/** SQL's OR over three-valued truths. */
export function any(truths: readonly Truth[]): Truth {
  if (truths.some((t) => t === true)) return true;
  return truths.some((t) => t === null) ? null : false;
}
