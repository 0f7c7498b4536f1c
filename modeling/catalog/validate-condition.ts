import { StrataError } from '../errors.ts';
import { quoteInput } from '../quote-input.ts';
import { CONDITION_OPS, isConditionOp, opArity, type Condition, type ConditionLeaf } from './condition.ts';
import { conditionLimits, type ConditionLimits } from './condition-limits.ts';

/** What a condition is called in messages (`rules nest at most 12 levels deep`) and where it sits. */
export interface ConditionPlace {
  readonly noun: 'rule' | 'filter';
  /** The path of the condition's root in the input, e.g. `where` or `rule`. */
  readonly path: string;
}

/** The first thing wrong with a condition: where, and what. */
export interface ConditionProblem {
  readonly path: string;
  readonly message: string;
}

const LEAF_KINDS: ReadonlySet<string> = new Set<ConditionLeaf['kind']>(['compare', 'metric', 'tag', 'aggregate']);

/**
 * The one validator of conditions, whichever way they were written (API input, the DSL, a
 * dbt project's filter text, code): `CONDITION_LIMITS` on depth, comparisons and values,
 * a known operator, the operator's number of values, and non-empty `and` / `or` lists.
 * Returns the first problem, or undefined. Names are not checked here (the catalog does).
 */
export function conditionProblem(condition: unknown, place: ConditionPlace): ConditionProblem | undefined {
  const limits = conditionLimits(place.noun);
  try {
    visit(condition, place.path, 0, limits);
    return undefined;
  } catch (error) {
    if (error instanceof Refusal) return { path: error.path, message: error.message };
    throw error;
  }
}

/**
 * `conditionProblem` as a refusal: BAD_USER_INPUT with the path of the bad node.
 *
 * ```ts
 * validateCondition({ kind: 'compare', dimension: 'customer.tier', op: 'LIKE', values: ['a'] }, { noun: 'filter', path: 'where' });
 * // throws StrataError BAD_USER_INPUT "where.op: unknown operator 'LIKE'; use one of EQ, NEQ, ..."
 * ```
 */
export function validateCondition<C extends Condition>(condition: C, place: ConditionPlace): C {
  const problem = conditionProblem(condition, place);
  if (problem) throw new StrataError('BAD_USER_INPUT', `${problem.path}: ${problem.message}`, { path: problem.path });
  return condition;
}

class Refusal extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function visit(node: unknown, at: string, depth: number, limits: ConditionLimits): void {
  const tooDeep = limits.depth(depth);
  if (tooDeep) throw new Refusal(at, tooDeep.message);
  if (!node || typeof node !== 'object') throw new Refusal(at, 'expected a condition');
  const condition = node as { kind?: unknown; filters?: unknown; filter?: unknown };
  if (condition.kind === 'and' || condition.kind === 'or') {
    const items = condition.filters;
    if (!Array.isArray(items) || items.length === 0) throw new Refusal(`${at}.${condition.kind}`, 'expected a non-empty list of conditions');
    items.forEach((item, i) => {
      visit(item, `${at}.${condition.kind}[${i}]`, depth + 1, limits);
    });
    return;
  }
  if (condition.kind === 'not') return visit(condition.filter, `${at}.not`, depth + 1, limits);
  if (typeof condition.kind !== 'string' || !LEAF_KINDS.has(condition.kind)) throw new Refusal(at, 'expected `and`, `or`, `not` or a comparison');
  leaf(node as ConditionLeaf, at, limits);
}

function leaf(node: ConditionLeaf, at: string, limits: ConditionLimits): void {
  const tooMany = limits.comparison();
  if (tooMany) throw new Refusal(at, tooMany.message);
  const op: unknown = node.op;
  if (!isConditionOp(op)) throw new Refusal(`${at}.op`, `unknown operator ${quoteInput(String(op))}; use one of ${CONDITION_OPS.join(', ')}`);
  const values: unknown = node.values;
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw new Refusal(`${at}.values`, 'expected a list of strings');
  const tooBig = limits.values(values as string[]);
  if (tooBig) throw new Refusal(`${at}.values${tooBig.valueIndex === undefined ? '' : `[${tooBig.valueIndex}]`}`, tooBig.message);
  const [min, max] = opArity(op);
  if (values.length < min || values.length > max) {
    const wanted = min === max ? `${min}` : `at least ${min}`;
    throw new Refusal(`${at}.values`, `${op} takes ${wanted} value${min === 1 && max === 1 ? '' : 's'}, got ${values.length}`);
  }
}
