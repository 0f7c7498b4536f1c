import type { AggregateRef, Rule } from '../../modeling/conditions/rule.ts';
import type { ConditionOp } from '../../modeling/catalog/condition.ts';
import type { TagSource } from '../../modeling/tags/tag-definition.ts';

/** `transaction.purchase_amount(30 days)`: a measure per customer over the trailing days up to the as-of date. */
const aggregateText = (ref: AggregateRef) => `${ref.measure}(${ref.window.days} ${ref.window.days === 1 ? 'day' : 'days'})`;

/** One comparison as text; every operator of the language has its case (no fallthrough). */
function comparison(subject: string, op: ConditionOp, values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  const binary = (symbol: string) => `${subject} ${symbol} ${quoted.join(', ')}`;
  switch (op) {
    case 'IS_NULL':
      return `${subject} IS NULL`;
    case 'IS_NOT_NULL':
      return `${subject} IS NOT NULL`;
    case 'IN':
      return `${subject} IN (${quoted.join(', ')})`;
    case 'NOT_IN':
      return `${subject} NOT IN (${quoted.join(', ')})`;
    case 'BETWEEN':
      return `${subject} BETWEEN ${quoted[0]} AND ${quoted[1]}`;
    case 'EQ':
      return binary('=');
    case 'NEQ':
      return binary('<>');
    case 'GT':
      return binary('>');
    case 'GTE':
      return binary('>=');
    case 'LT':
      return binary('<');
    case 'LTE':
      return binary('<=');
    case 'CONTAINS':
    case 'STARTS_WITH':
      return binary(op);
  }
}

/** A rule as one line of text: `sum(transaction.purchase_amount, 30 days) > '0' AND tag.x = 'true'`. */
export function ruleText(rule: Rule): string {
  switch (rule.kind) {
    case 'and':
    case 'or':
      return rule.filters.map((r) => (r.kind === 'and' || r.kind === 'or' ? `(${ruleText(r)})` : ruleText(r))).join(` ${rule.kind.toUpperCase()} `);
    case 'not':
      return `NOT (${ruleText(rule.filter)})`;
    case 'compare':
      return comparison(rule.dimension, rule.op, rule.values);
    case 'tag':
      return comparison(`tag.${rule.tag}`, rule.op, rule.values);
    case 'aggregate':
      return comparison(aggregateText(rule.aggregate), rule.op, rule.values);
  }
}

/** How a tag's value is computed, as text. */
export function tagSourceText(source: TagSource): string {
  switch (source.kind) {
    case 'rule':
      return `true when \`${ruleText(source.rule)}\``;
    case 'cases':
      return [
        ...source.cases.map((c) => `\`${c.value}\` when \`${ruleText(c.rule)}\``),
        `else ${source.otherwise === null ? 'null' : `\`${source.otherwise}\``}`,
      ].join('; ');
    case 'aggregate':
      return `\`${aggregateText(source.aggregate)}\``;
    case 'top':
      return `the \`${source.by}\` with the largest \`${aggregateText(source.aggregate)}\` (ties: alphabetically first; null without data)`;
  }
}
