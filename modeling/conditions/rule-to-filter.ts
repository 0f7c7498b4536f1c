import type { Filter } from '../catalog/types.ts';
import { StrataError } from '../errors.ts';
import type { Rule } from './rule.ts';

/**
 * A rule over the subject's own dimensions and tags as a metric filter: `customer.channel`
 * stays as written, a tag leaf becomes `customer.tag.<key>`. Aggregate leaves have no
 * metric-filter form and are refused.
 */
export function ruleToFilter(rule: Rule, subjectName: string): Filter {
  switch (rule.kind) {
    case 'and':
      return { kind: 'and', filters: rule.rules.map((r) => ruleToFilter(r, subjectName)) };
    case 'or':
      return { kind: 'or', filters: rule.rules.map((r) => ruleToFilter(r, subjectName)) };
    case 'not':
      return { kind: 'not', filter: ruleToFilter(rule.rule, subjectName) };
    case 'dimension':
      return { kind: 'compare', dimension: rule.dimension, op: rule.op, values: rule.values };
    case 'tag':
      return { kind: 'compare', dimension: `${subjectName}.tag.${rule.tag}`, op: rule.op, values: rule.values };
    case 'aggregate':
      throw new StrataError('BAD_USER_INPUT', `an aggregate (${rule.aggregate.measure}) cannot scope access; use ${subjectName} dimensions and tags`);
  }
}
