import { z } from 'zod';
import { StrataError } from '../errors.ts';
import { quoteInput } from '../quote-input.ts';
import type { AggregateRef, Condition, ConditionLeaf, ConditionOp } from './condition.ts';
import { CONDITION_LIMITS } from './condition-limits.ts';
import { validateCondition, type ConditionPlace } from './validate-condition.ts';

/** The subjects a comparison of API.md's condition input may name. */
export type ConditionSubject = 'dimension' | 'tag' | 'aggregate';

/** Which form of the language an input is written in: a rule (`dimension`, `tag`, `aggregate`) or a filter (`dimension` with `grain`). */
export interface ConditionSyntax extends ConditionPlace {
  readonly subjects: readonly ConditionSubject[];
  /** The grains a `grain` may name; absent where a comparison takes no grain. */
  readonly grains?: readonly string[];
}

const NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/i;

/**
 * Reads a condition written as plain JSON (API.md's `where` and `rule`: `{ and: [...] }`,
 * `{ not: {...} }`, `{ dimension, op, values }`) into the condition AST, then runs the one
 * validator on it. Every problem is a BAD_USER_INPUT naming the path of the bad node.
 *
 * ```ts
 * parseCondition({ not: { dimension: 'customer.channel', op: 'EQ', values: ['app'] } }, { noun: 'filter', path: 'where', subjects: ['dimension'] });
 * // { kind: 'not', filter: { kind: 'compare', dimension: 'customer.channel', op: 'EQ', values: ['app'] } }
 * ```
 */
export function parseCondition(input: unknown, syntax: ConditionSyntax): Condition {
  const fail = (at: string, message: string): never => {
    throw new StrataError('BAD_USER_INPUT', `${at}: ${message}`, { path: at });
  };
  const visit = (node: unknown, at: string, depth: number): Condition => {
    // The validator checks depth too; this guard keeps deep input from exhausting the stack first.
    if (depth > CONDITION_LIMITS.maxDepth) fail(at, `${syntax.noun}s nest at most ${CONDITION_LIMITS.maxDepth} levels deep`);
    if (!node || typeof node !== 'object' || Array.isArray(node)) return fail(at, 'expected an object');
    const present = Object.entries(node as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
    const keys = present.map(([k]) => k);
    const record = Object.fromEntries(present);
    for (const combinator of ['and', 'or'] as const) {
      if (!keys.includes(combinator)) continue;
      if (keys.length !== 1) fail(at, `\`${combinator}\` must stand alone (found ${keys.join(', ')})`);
      const items = record[combinator];
      if (!Array.isArray(items) || items.length === 0) fail(`${at}.${combinator}`, `expected a non-empty list of ${syntax.noun}s`);
      return { kind: combinator, filters: (items as unknown[]).map((item, i) => visit(item, `${at}.${combinator}[${i}]`, depth + 1)) };
    }
    if (keys.includes('not')) {
      if (keys.length !== 1) fail(at, `\`not\` must stand alone (found ${keys.join(', ')})`);
      return { kind: 'not', filter: visit(record.not, `${at}.not`, depth + 1) };
    }
    return comparison(record, keys, at, syntax, fail);
  };
  const parsed = visit(input, syntax.path, 0);
  return validateCondition(parsed, syntax);
}

function comparison(
  record: Record<string, unknown>,
  keys: readonly string[],
  at: string,
  syntax: ConditionSyntax,
  fail: (at: string, message: string) => never,
): ConditionLeaf {
  const subjects = keys.filter((k): k is ConditionSubject => (syntax.subjects as readonly string[]).includes(k));
  if (subjects.length !== 1) {
    const named = syntax.subjects.map((s) => `\`${s}\``);
    const choice = named.length === 1 ? `a ${named[0]}` : `exactly one of ${named.slice(0, -1).join(', ')} or ${named.at(-1)}`;
    fail(at, `a ${syntax.noun} is one of \`and\`, \`or\`, \`not\`, or ${choice} with \`op\` and \`values\``);
  }
  const allowed = [...syntax.subjects, 'op', 'values', ...(syntax.grains ? ['grain'] : [])];
  const unknown = keys.filter((k) => !allowed.includes(k));
  if (unknown.length > 0) fail(at, `unknown field ${unknown.map((k) => quoteInput(k)).join(', ')}`);
  if (typeof record.op !== 'string') fail(`${at}.op`, 'expected an operator');
  const op = record.op as ConditionOp;
  const values = record.values ?? [];
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) fail(`${at}.values`, 'expected a list of strings');
  const texts = values as string[];
  const subject = subjects[0] as ConditionSubject;
  if (subject === 'aggregate') return { kind: 'aggregate', aggregate: parseAggregateRef(record.aggregate, `${at}.aggregate`), op, values: texts };
  const name = record[subject];
  if (typeof name !== 'string' || !NAME.test(name)) return fail(`${at}.${subject}`, 'expected a name like customer.age_band');
  if (subject === 'tag') return { kind: 'tag', tag: name, op, values: texts };
  const grain = record.grain;
  if (grain !== undefined && !syntax.grains?.includes(grain as string))
    fail(`${at}.grain`, `unknown grain ${quoteInput(String(grain))}; use one of ${syntax.grains?.join(', ')}`);
  return { kind: 'compare', dimension: name, op, values: texts, ...(grain === undefined ? {} : { grain: grain as string }) };
}

const Aggregate = z.object({
  measure: z.string().regex(/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/i, 'expected model.measure'),
  window: z.object({ days: z.number().int().min(1).max(3660) }),
});

/** Validates `{ measure: 'model.measure', window: { days } }`; BAD_USER_INPUT with its path otherwise. */
export function parseAggregateRef(node: unknown, path: string): AggregateRef {
  const parsed = Aggregate.safeParse(node);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = `${path}${issue?.path.length ? `.${issue.path.join('.')}` : ''}`;
    throw new StrataError('BAD_USER_INPUT', `${at}: ${issue?.message ?? 'invalid aggregate'}`, { path: at });
  }
  return { measure: parsed.data.measure, window: { days: parsed.data.window.days } };
}
