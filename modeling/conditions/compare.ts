import { StrataError } from '../errors.ts';
import { quoteInput } from '../quote-input.ts';
import type { ConditionOp } from '../catalog/condition.ts';

export type ValueType = 'string' | 'number' | 'boolean' | 'time';
/** true, false, or unknown (null), as SQL's three-valued logic has it. */
export type Truth = boolean | null;

function cast(type: ValueType, text: string, timeZone: string): string | number | boolean {
  if (type === 'number') return Number(text);
  if (type === 'boolean') return text.toLowerCase() === 'true';
  if (type === 'time') return instantOf(text, timeZone);
  return text;
}

const OFFSET = /(Z|[+-]\d{2}(:?\d{2})?)$/;

/**
 * A time literal as an instant: with an offset as written, otherwise as wall time in
 * `timeZone` (a date is its midnight), as `boundFor` reads it for a column in SQL.
 */
export function instantOf(text: string, timeZone: string): number {
  const iso = text.replace(' ', 'T');
  if (iso.length > 10 && OFFSET.test(iso)) return Date.parse(iso);
  const wall = Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : `${iso}Z`);
  if (Number.isNaN(wall)) return wall;
  const first = wall - zoneOffset(wall, timeZone);
  const second = wall - zoneOffset(first, timeZone);
  return second;
}

/** How far `timeZone`'s wall clock is ahead of UTC at an instant, in milliseconds. */
function zoneOffset(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}

function normalize(type: ValueType, value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (type === 'number') return typeof value === 'number' ? value : Number(value);
  if (type === 'boolean') return typeof value === 'boolean' ? value : String(value).toLowerCase() === 'true';
  if (type === 'time') return value instanceof Date ? value.getTime() : Date.parse(String(value));
  return String(value);
}

/**
 * Code-point order: the order of UTF-8 bytes, which is PostgreSQL's "C" collation, the one
 * `comparisonSql` orders strings by. (JavaScript's `<` compares UTF-16 code units, which
 * puts characters beyond U+FFFF before U+E000..U+FFFF.)
 */
export function codePointOrder(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function order(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'string' && typeof b === 'string') return codePointOrder(a, b);
  return Number(a) - Number(b);
}

/**
 * One comparison, evaluated in memory with the result SQL gives for the same values:
 * unknown (null) whenever the compared value is missing, except for the null tests. Time
 * literals without an offset are wall times in `timeZone` (the model's reporting time zone).
 */
export function compare(type: ValueType, raw: unknown, op: ConditionOp, texts: readonly string[], timeZone = 'UTC'): Truth {
  const value = normalize(type, raw);
  if (op === 'IS_NULL') return value === null;
  if (op === 'IS_NOT_NULL') return value !== null;
  if (value === null) return null;
  const values = texts.map((t) => cast(type, t, timeZone));
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
    default: {
      const unknown: never = op;
      throw new StrataError('BAD_USER_INPUT', `unknown operator ${quoteInput(String(unknown))}`);
    }
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
