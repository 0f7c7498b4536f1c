import { z } from 'zod';
import type { FilterOp } from '../catalog/types.ts';
import { FILTER_OPS } from '../catalog/filter-input.ts';
import { StrataError } from '../errors.ts';
import type { AggregateRef, Rule } from './rule.ts';
import { CONDITION_LIMITS, conditionLimits } from '../catalog/condition-limits.ts';
import { quoteInput } from '../quote-input.ts';

const Values = z.array(z.string()).nullish();
const Op = z.enum(FILTER_OPS as [FilterOp, ...FilterOp[]]);
const Leaf = z.object({ op: Op, values: Values });

/** A rule as API clients write it: exactly one of the keys below per object. */
export type RuleInput = Record<string, unknown>;

const ARITY: Partial<Record<FilterOp, [number, number]>> = {
  IS_NULL: [0, 0],
  IS_NOT_NULL: [0, 0],
  BETWEEN: [2, 2],
  IN: [1, CONDITION_LIMITS.maxValues],
  NOT_IN: [1, CONDITION_LIMITS.maxValues],
};

/**
 * Validates a rule written as plain JSON (API.md's `rule`) and returns its AST. Every
 * problem is a BAD_USER_INPUT naming the path of the bad node, e.g. `rule.and[1].op`;
 * the shared `CONDITION_LIMITS` bound its depth, comparisons and values.
 */
export function parseRule(input: unknown, path = 'rule'): Rule {
  const limits = conditionLimits('rule');
  const fail = (at: string, message: string): never => {
    throw new StrataError('BAD_USER_INPUT', `${at}: ${message}`, { path: at });
  };
  const visit = (node: unknown, at: string, depth: number): Rule => {
    const tooDeep = limits.depth(depth);
    if (tooDeep) fail(at, tooDeep.message);
    if (!node || typeof node !== 'object' || Array.isArray(node)) return fail(at, 'expected an object');
    const present = Object.entries(node as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
    const keys = present.map(([k]) => k);
    const record = Object.fromEntries(present);
    for (const combinator of ['and', 'or'] as const) {
      if (!keys.includes(combinator)) continue;
      if (keys.length !== 1) fail(at, `\`${combinator}\` must stand alone (found ${keys.join(', ')})`);
      const items = record[combinator];
      if (!Array.isArray(items) || items.length === 0) fail(`${at}.${combinator}`, 'expected a non-empty list of rules');
      return { kind: combinator, rules: (items as unknown[]).map((item, i) => visit(item, `${at}.${combinator}[${i}]`, depth + 1)) };
    }
    if (keys.includes('not')) {
      if (keys.length !== 1) fail(at, `\`not\` must stand alone (found ${keys.join(', ')})`);
      return { kind: 'not', rule: visit(record.not, `${at}.not`, depth + 1) };
    }
    const tooMany = limits.comparison();
    if (tooMany) fail(at, tooMany.message);
    const subjects = keys.filter((k) => k === 'dimension' || k === 'tag' || k === 'aggregate');
    if (subjects.length !== 1) fail(at, 'a comparison names exactly one of `dimension`, `tag` or `aggregate`, with `op` and `values`');
    const unknown = keys.filter((k) => !['dimension', 'tag', 'aggregate', 'op', 'values'].includes(k));
    if (unknown.length > 0) fail(at, `unknown field ${unknown.map((k) => quoteInput(k)).join(', ')}`);
    const parsed = Leaf.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail(`${at}${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'invalid comparison');
    }
    const { op } = parsed.data;
    const values = parsed.data.values ?? [];
    const tooBig = limits.values(values);
    if (tooBig) fail(`${at}.values${tooBig.valueIndex === undefined ? '' : `[${tooBig.valueIndex}]`}`, tooBig.message);
    const [min, max] = ARITY[op] ?? [1, 1];
    if (values.length < min || values.length > max)
      fail(`${at}.values`, `${op} takes ${min === max ? min : `${min} to ${max}`} value(s), got ${values.length}`);
    const subject = subjects[0] as 'dimension' | 'tag' | 'aggregate';
    if (subject === 'aggregate') return { kind: 'aggregate', aggregate: parseAggregate(record.aggregate, `${at}.aggregate`, fail), op, values };
    const name = record[subject];
    if (typeof name !== 'string' || !/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/i.test(name)) fail(`${at}.${subject}`, 'expected a name like customer.age_band');
    return subject === 'dimension' ? { kind: 'dimension', dimension: name as string, op, values } : { kind: 'tag', tag: name as string, op, values };
  };
  return visit(input, path, 0);
}

const Aggregate = z.object({
  measure: z.string().regex(/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/i, 'expected model.measure'),
  window: z.object({ days: z.number().int().min(1).max(3660) }),
});

function parseAggregate(node: unknown, at: string, fail: (at: string, message: string) => never) {
  const parsed = Aggregate.safeParse(node);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`${at}${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'invalid aggregate');
  }
  return { measure: parsed.data.measure, window: { days: parsed.data.window.days } };
}

/** Validates `{ measure: 'model.measure', window: { days } }`; BAD_USER_INPUT with its path otherwise. */
export function parseAggregateRef(node: unknown, path: string): AggregateRef {
  return parseAggregate(node, path, (at, message) => {
    throw new StrataError('BAD_USER_INPUT', `${at}: ${message}`, { path: at });
  });
}
