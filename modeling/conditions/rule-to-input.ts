import type { Rule } from './rule.ts';

/** A rule back in API.md's JSON form, as clients write it (and can send again). */
export function ruleToInput(rule: Rule): Record<string, unknown> {
  switch (rule.kind) {
    case 'and':
      return { and: rule.filters.map(ruleToInput) };
    case 'or':
      return { or: rule.filters.map(ruleToInput) };
    case 'not':
      return { not: ruleToInput(rule.filter) };
    case 'compare':
      return { dimension: rule.dimension, op: rule.op, values: [...rule.values] };
    case 'tag':
      return { tag: rule.tag, op: rule.op, values: [...rule.values] };
    case 'aggregate':
      return { aggregate: { measure: rule.aggregate.measure, window: { days: rule.aggregate.window.days } }, op: rule.op, values: [...rule.values] };
  }
}
