import { sql, type RawBuilder } from 'kysely';
import type { FilterOp } from '../catalog/types.ts';
import type { AggregateRef, Rule } from './rule.ts';
import type { ValueType } from './compare.ts';

/** Where each leaf's value comes from in the statement the rule is compiled into. */
export interface RuleColumns {
  dimension(ref: string): { expr: RawBuilder<unknown>; type: ValueType };
  tag(key: string): { expr: RawBuilder<unknown>; type: ValueType };
  aggregate(ref: AggregateRef): RawBuilder<unknown>;
}

const OPERATORS: Partial<Record<FilterOp, string>> = { EQ: '=', NEQ: '<>', GT: '>', GTE: '>=', LT: '<', LTE: '<=' };
const CASTS: Record<ValueType, string> = { string: 'text', number: 'numeric', boolean: 'boolean', time: 'timestamptz' };

/** Compiles a rule to a SQL predicate; every compared value is a bound parameter. */
export function ruleSql(rule: Rule, columns: RuleColumns): RawBuilder<unknown> {
  switch (rule.kind) {
    case 'and':
      return sql`(${sql.join(
        rule.rules.map((r) => ruleSql(r, columns)),
        sql` AND `,
      )})`;
    case 'or':
      return sql`(${sql.join(
        rule.rules.map((r) => ruleSql(r, columns)),
        sql` OR `,
      )})`;
    case 'not':
      return sql`(NOT ${ruleSql(rule.rule, columns)})`;
    case 'dimension': {
      const { expr, type } = columns.dimension(rule.dimension);
      return comparison(expr, type, rule.op, rule.values);
    }
    case 'tag': {
      const { expr, type } = columns.tag(rule.tag);
      return comparison(expr, type, rule.op, rule.values);
    }
    case 'aggregate':
      return comparison(columns.aggregate(rule.aggregate), 'number', rule.op, rule.values);
  }
}

function comparison(expr: RawBuilder<unknown>, type: ValueType, op: FilterOp, values: readonly string[]): RawBuilder<unknown> {
  // Strings compare in code-unit order ("C" collation) on every database and in memory.
  const left = type === 'string' ? sql`(${expr} COLLATE "C")` : expr;
  const value = (v: string) => sql`CAST(${v} AS ${sql.raw(CASTS[type])})`;
  switch (op) {
    case 'IS_NULL':
      return sql`(${expr} IS NULL)`;
    case 'IS_NOT_NULL':
      return sql`(${expr} IS NOT NULL)`;
    case 'IN':
      return sql`(${left} IN (${sql.join(values.map(value))}))`;
    case 'NOT_IN':
      return sql`(${left} NOT IN (${sql.join(values.map(value))}))`;
    case 'BETWEEN':
      return sql`(${left} BETWEEN ${value(values[0] as string)} AND ${value(values[1] as string)})`;
    case 'CONTAINS':
      return sql`(strpos(CAST(${expr} AS text), ${values[0]}) > 0)`;
    case 'STARTS_WITH':
      return sql`starts_with(CAST(${expr} AS text), ${values[0]})`;
    default:
      return sql`(${left} ${sql.raw(OPERATORS[op] as string)} ${value(values[0] as string)})`;
  }
}
