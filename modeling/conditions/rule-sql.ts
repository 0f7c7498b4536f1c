import type { RawBuilder } from 'kysely';
import type { AggregateRef, Rule } from './rule.ts';
import { comparisonSql, conditionSql, type SqlOperand } from './condition-sql.ts';

/** Where each leaf's value comes from in the statement the rule is compiled into. */
export interface RuleColumns {
  /** A subject dimension; a time dimension reads its literals in the model's time zone (`literal`), as metric filters do. */
  dimension(ref: string): SqlOperand;
  tag(key: string): SqlOperand;
  aggregate(ref: AggregateRef): RawBuilder<unknown>;
}

/** Compiles a rule to a SQL predicate with the one comparison compiler; every compared value is a bound parameter. */
export function ruleSql(rule: Rule, columns: RuleColumns): RawBuilder<unknown> {
  return conditionSql(rule, (leaf) => {
    switch (leaf.kind) {
      case 'compare':
        return comparisonSql(columns.dimension(leaf.dimension), leaf.op, leaf.values);
      case 'tag':
        return comparisonSql(columns.tag(leaf.tag), leaf.op, leaf.values);
      case 'aggregate':
        return comparisonSql({ expr: columns.aggregate(leaf.aggregate), type: 'number' }, leaf.op, leaf.values);
    }
  });
}
