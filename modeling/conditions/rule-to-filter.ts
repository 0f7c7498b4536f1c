import { StrataError } from '../errors.ts';
import type { Condition, DimensionLeaf } from '../catalog/condition.ts';
import type { Rule } from './rule.ts';

/**
 * A rule over the subject's own dimensions and tags as a metric filter: `customer.channel`
 * stays as written, a tag leaf becomes `customer.tag.<key>`. Aggregate leaves have no
 * metric-filter form and are refused.
 */
export function ruleToFilter(rule: Rule, subjectName: string): Condition<DimensionLeaf<never>> {
  switch (rule.kind) {
    case 'and':
    case 'or':
      return { kind: rule.kind, filters: rule.filters.map((r) => ruleToFilter(r, subjectName)) };
    case 'not':
      return { kind: 'not', filter: ruleToFilter(rule.filter, subjectName) };
    case 'compare':
      return rule;
    case 'tag':
      return { kind: 'compare', dimension: `${subjectName}.tag.${rule.tag}`, op: rule.op, values: rule.values };
    case 'aggregate':
      throw new StrataError('BAD_USER_INPUT', `an aggregate (${rule.aggregate.measure}) cannot scope access; use ${subjectName} dimensions and tags`);
  }
}
