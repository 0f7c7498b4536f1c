import { sql, type RawBuilder } from 'kysely';
import { StrataError } from '../errors.ts';
import { quoteInput } from '../quote-input.ts';
import type { Condition, ConditionLeaf, ConditionOp } from '../catalog/condition.ts';
import type { ValueType } from './compare.ts';

/** What a leaf compares, in SQL. */
export interface SqlOperand {
  /** The compared expression (for a time dimension with a grain, its truncated value). */
  readonly expr: RawBuilder<unknown>;
  readonly type: ValueType;
  /** A literal as a value of the operand's type; by default a bound parameter cast to the type (strings as they are). */
  readonly literal?: (text: string) => RawBuilder<unknown>;
  /** What CONTAINS and STARTS_WITH read as text; `expr` by default. */
  readonly text?: RawBuilder<unknown>;
}

const CASTS: Readonly<Record<Exclude<ValueType, 'string'>, string>> = { number: 'numeric', boolean: 'boolean', time: 'timestamptz' };

const defaultLiteral =
  (type: ValueType) =>
  (text: string): RawBuilder<unknown> =>
    type === 'string' ? sql`${text}` : sql`CAST(${text} AS ${sql.raw(CASTS[type])})`;

/**
 * Compiles a condition to a SQL predicate: `and` / `or` / `not` here, each leaf with `leafSql`
 * (which resolves what the leaf names and calls `comparisonSql`).
 */
export function conditionSql<L extends ConditionLeaf>(condition: Condition<L>, leafSql: (leaf: L) => RawBuilder<unknown>): RawBuilder<unknown> {
  switch (condition.kind) {
    case 'and':
    case 'or':
      return sql`(${sql.join(
        condition.filters.map((c) => conditionSql(c, leafSql)),
        condition.kind === 'and' ? sql` AND ` : sql` OR `,
      )})`;
    case 'not':
      return sql`(NOT ${conditionSql(condition.filter, leafSql)})`;
    default:
      return leafSql(condition as L);
  }
}

/**
 * The one comparison compiler of metric filters, tag and audience rules and access scopes;
 * every compared value is a bound parameter. Strings are ordered (GT, GTE, LT, LTE, BETWEEN)
 * by code point, `COLLATE "C"`, whatever the database's collation, as `evaluateCondition`
 * orders them; equality needs no collation (every deterministic collation, PostgreSQL's
 * default kind, compares bytes for equality), so it stays index-friendly.
 *
 * ```ts
 * comparisonSql({ expr: sql.ref('c.age_band'), type: 'string' }, 'GT', ['25']); // (CAST(c.age_band AS text) COLLATE "C") > $1
 * ```
 */
export function comparisonSql(operand: SqlOperand, op: ConditionOp, values: readonly string[]): RawBuilder<unknown> {
  const { expr, type } = operand;
  const literal = operand.literal ?? defaultLiteral(type);
  const ordered = type === 'string' ? sql`(CAST(${expr} AS text) COLLATE "C")` : expr;
  const first = () => literal(values[0] as string);
  switch (op) {
    case 'IS_NULL':
      return sql`(${expr} IS NULL)`;
    case 'IS_NOT_NULL':
      return sql`(${expr} IS NOT NULL)`;
    case 'EQ':
      return sql`(${expr} = ${first()})`;
    case 'NEQ':
      return sql`(${expr} <> ${first()})`;
    case 'IN':
      return sql`(${expr} IN (${sql.join(values.map(literal))}))`;
    case 'NOT_IN':
      return sql`(${expr} NOT IN (${sql.join(values.map(literal))}))`;
    case 'GT':
      return sql`(${ordered} > ${first()})`;
    case 'GTE':
      return sql`(${ordered} >= ${first()})`;
    case 'LT':
      return sql`(${ordered} < ${first()})`;
    case 'LTE':
      return sql`(${ordered} <= ${first()})`;
    case 'BETWEEN':
      return sql`(${ordered} BETWEEN ${first()} AND ${literal(values[1] as string)})`;
    case 'CONTAINS':
      return sql`(strpos(CAST(${operand.text ?? expr} AS text), ${values[0]}) > 0)`;
    case 'STARTS_WITH':
      return sql`starts_with(CAST(${operand.text ?? expr} AS text), ${values[0]})`;
    default: {
      const unknown: never = op;
      throw new StrataError('BAD_USER_INPUT', `unknown operator ${quoteInput(String(unknown))}`);
    }
  }
}
