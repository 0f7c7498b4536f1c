import type { FilterOp, RuleInput } from './generated/strata-console.ts';

/** The closed condition language as the console edits it: RuleInput without nulls. */
export type Rule = RuleInput;

export const OPS: readonly FilterOp[] = ['EQ', 'NEQ', 'IN', 'NOT_IN', 'GT', 'GTE', 'LT', 'LTE', 'BETWEEN', 'CONTAINS', 'STARTS_WITH', 'IS_NULL', 'IS_NOT_NULL'];

export function isGroup(rule: Rule): boolean {
  return rule.and !== undefined || rule.or !== undefined || rule.not !== undefined;
}

/**
 * What is wrong with a rule, as the builder checks it while typing (the server checks the
 * rest on preview): each problem with the path of the node it is on.
 */
export function ruleProblems(rule: Rule, knownTags: ReadonlySet<string>, path = 'rule', tr: (zh: string, en: string) => string = (_zh, en) => en): string[] {
  if (rule.and || rule.or) {
    const list = (rule.and ?? rule.or) as Rule[];
    if (list.length === 0) return [`${path}: ${tr('组合至少需要一个条件', 'a group needs at least one condition')}`];
    return list.flatMap((child, i) => ruleProblems(child, knownTags, `${path}.${rule.and ? 'and' : 'or'}[${i}]`, tr));
  }
  if (rule.not) return ruleProblems(rule.not, knownTags, `${path}.not`, tr);
  const problems: string[] = [];
  const members = [rule.dimension, rule.tag, rule.aggregate].filter((m) => m !== undefined && m !== null);
  if (members.length !== 1) problems.push(`${path}: ${tr('选择一个维度、标签或聚合', 'choose one dimension, tag or aggregate')}`);
  if (rule.dimension === '' || rule.tag === '' || rule.aggregate?.measure === '') problems.push(`${path}: ${tr('未选择字段', 'no member chosen')}`);
  if (rule.tag && !knownTags.has(rule.tag)) problems.push(`${path}: ${tr('不是已发布的标签', 'not a published tag')}: ${rule.tag}`);
  if (rule.aggregate && !(rule.aggregate.window.days >= 1)) problems.push(`${path}: ${tr('窗口天数至少为 1', 'the window needs at least 1 day')}`);
  if (!rule.op) problems.push(`${path}: ${tr('未选择比较符', 'no operator')}`);
  const values = rule.values ?? [];
  if (rule.op === 'IS_NULL' || rule.op === 'IS_NOT_NULL') {
    if (values.length > 0) problems.push(`${path}: ${rule.op} ${tr('不带取值', 'takes no values')}`);
  } else if (rule.op === 'BETWEEN') {
    if (values.length !== 2) problems.push(`${path}: BETWEEN ${tr('需要两个取值', 'needs two values')}`);
  } else if (rule.op && values.length === 0) problems.push(`${path}: ${tr('至少需要一个取值', 'needs at least one value')}`);
  else if (rule.op && !['IN', 'NOT_IN'].includes(rule.op) && values.length > 1) problems.push(`${path}: ${rule.op} ${tr('只取一个值', 'takes one value')}`);
  if (rule.aggregate && values.some((v) => Number.isNaN(Number(v))))
    problems.push(`${path}: ${tr('聚合只能与数字比较', 'an aggregate compares with numbers')}`);
  return problems;
}

/** Reads a rule typed as JSON; throws with the reason when it is not one. */
export function parseRule(text: string): Rule {
  const value = JSON.parse(text) as unknown;
  const check = (node: unknown): Rule => {
    if (!node || typeof node !== 'object' || Array.isArray(node)) throw new Error('a rule is an object');
    const rule = node as Record<string, unknown>;
    const allowed = new Set(['and', 'or', 'not', 'dimension', 'tag', 'aggregate', 'op', 'values']);
    for (const key of Object.keys(rule)) if (!allowed.has(key)) throw new Error(`unknown field ${key}`);
    if (Array.isArray(rule.and)) return { and: rule.and.map(check) };
    if (Array.isArray(rule.or)) return { or: rule.or.map(check) };
    if (rule.not !== undefined) return { not: check(rule.not) };
    if (rule.op !== undefined && (typeof rule.op !== 'string' || !(OPS as readonly string[]).includes(rule.op)))
      throw new Error(`unknown op ${String(rule.op)}`);
    if (rule.values !== undefined && !(Array.isArray(rule.values) && rule.values.every((v) => typeof v === 'string')))
      throw new Error('values is a list of strings');
    return rule as Rule;
  };
  return check(value);
}
