import type { Filter, FilterOp } from '../catalog/types.ts';
import { FilterSyntaxError, lexFilter, type Token } from './filter-lexer.ts';
import { readTemplate, type TemplateRef, type TokenCursor } from './filter-templates.ts';
import { CONDITION_LIMITS, conditionLimits, type ConditionLimits } from '../catalog/condition-limits.ts';
import { quoteInput } from '../quote-input.ts';

type Operand =
  | { readonly kind: 'ref'; readonly ref: TemplateRef; readonly at: number }
  | { readonly kind: 'literal'; readonly value: string; readonly at: number };

const COMPARE: Readonly<Record<string, FilterOp>> = { '=': 'EQ', '==': 'EQ', '!=': 'NEQ', '<>': 'NEQ', '<': 'LT', '<=': 'LTE', '>': 'GT', '>=': 'GTE' };
const FLIPPED: Readonly<Partial<Record<FilterOp, FilterOp>>> = { LT: 'GT', LTE: 'GTE', GT: 'LT', GTE: 'LTE' };
const CAST_TYPES = new Set(['TIMESTAMP', 'DATE', 'TEXT', 'VARCHAR', 'INTEGER', 'INT', 'BIGINT', 'NUMERIC', 'DECIMAL', 'DOUBLE', 'FLOAT', 'BOOLEAN']);

/**
 * Parses MetricFlow's filter text (`{{ Dimension('listing__country_latest') }} = 'us'`, with
 * TimeDimension, Entity and Metric templates, AND/OR/NOT, parentheses, comparisons, IN,
 * IS [NOT] NULL, BETWEEN, LIKE 'prefix%', CAST(literal AS TIMESTAMP) and group-by names such
 * as `metric_time__day` used as columns) into the closed filter language. Names are kept as
 * written, to be resolved against the catalog; literals become values, never SQL text.
 * The text and what it holds stay within `CONDITION_LIMITS` (parentheses and NOT count as
 * levels), so deep nesting is refused before it can exhaust the stack.
 *
 * ```ts
 * parseMetricFlowFilter("{{ TimeDimension('metric_time', 'day') }} >= '2020-01-02'");
 * // { kind: 'compare', dimension: 'metric_time__day', op: 'GTE', values: ['2020-01-02'] }
 * ```
 */
export function parseMetricFlowFilter(text: string): Filter {
  const { maxFilterTextLength } = CONDITION_LIMITS;
  if (text.length > maxFilterTextLength)
    throw new FilterSyntaxError(`filter text has at most ${maxFilterTextLength} characters, got ${text.length}`, maxFilterTextLength + 1);
  const limits = conditionLimits('filter');
  const tokens = lexFilter(text);
  if (tokens.length === 0) throw new FilterSyntaxError('the filter is empty', 1);
  let i = 0;
  const cursor: TokenCursor = {
    peek: (offset = 0) => tokens[i + offset],
    take(expected) {
      const t = tokens[i];
      if (!t) throw new FilterSyntaxError(`expected ${expected ?? 'more'} at the end of the filter`, text.length + 1);
      if (expected !== undefined && t.text.toUpperCase() !== expected.toUpperCase())
        throw new FilterSyntaxError(`expected '${expected}', found ${quoteInput(t.text)}`, t.at);
      i += 1;
      return t;
    },
  };
  const isWord = (word: string, offset = 0) => cursor.peek(offset)?.kind === 'word' && cursor.peek(offset)?.text.toUpperCase() === word;

  const or = (depth: number): Filter => {
    const items = [and(depth)];
    while (isWord('OR')) {
      cursor.take();
      items.push(and(depth));
    }
    return items.length === 1 ? (items[0] as Filter) : { kind: 'or', filters: items };
  };
  const and = (depth: number): Filter => {
    const items = [unary(depth)];
    while (isWord('AND')) {
      cursor.take();
      items.push(unary(depth));
    }
    return items.length === 1 ? (items[0] as Filter) : { kind: 'and', filters: items };
  };
  /** NOT and parentheses open a level; the limit is checked before going deeper. */
  const nest = (depth: number, at: number): number => {
    const tooDeep = limits.depth(depth + 1);
    if (tooDeep) throw new FilterSyntaxError(tooDeep.message, at);
    return depth + 1;
  };
  const unary = (depth: number): Filter => {
    if (isWord('NOT')) {
      const inner = nest(depth, cursor.take().at);
      return { kind: 'not', filter: unary(inner) };
    }
    if (cursor.peek()?.text === '(') {
      const inner = or(nest(depth, cursor.take('(').at));
      cursor.take(')');
      return inner;
    }
    return predicate(operand(cursor, isWord));
  };
  const leaf = (left: Operand, op: FilterOp, right: readonly Operand[], at: Token): Filter => compared(left, op, right, at, limits);
  const predicate = (left: Operand): Filter => {
    const next = cursor.peek();
    if (next?.kind === 'op' && COMPARE[next.text]) {
      cursor.take();
      return leaf(left, COMPARE[next.text] as FilterOp, [operand(cursor, isWord)], next);
    }
    const negated = isWord('NOT') && (isWord('IN', 1) || isWord('BETWEEN', 1) || isWord('LIKE', 1));
    if (negated) cursor.take();
    if (isWord('IN')) {
      const t = cursor.take();
      cursor.take('(');
      const values: Operand[] = [operand(cursor, isWord)];
      while (cursor.peek()?.text === ',') {
        cursor.take();
        values.push(operand(cursor, isWord));
      }
      cursor.take(')');
      return leaf(left, negated ? 'NOT_IN' : 'IN', values, t);
    }
    if (isWord('BETWEEN')) {
      const t = cursor.take();
      const low = operand(cursor, isWord);
      cursor.take('AND');
      const between = leaf(left, 'BETWEEN', [low, operand(cursor, isWord)], t);
      return negated ? { kind: 'not', filter: between } : between;
    }
    if (isWord('LIKE')) return like(left, cursor.take(), operand(cursor, isWord), negated, limits);
    if (isWord('IS')) {
      const t = cursor.take();
      const not = isWord('NOT') ? (cursor.take(), true) : false;
      cursor.take('NULL');
      return leaf(left, not ? 'IS_NOT_NULL' : 'IS_NULL', [], t);
    }
    if (left.kind === 'ref' && left.ref.kind === 'dimension') return { kind: 'compare', dimension: left.ref.name, op: 'EQ', values: ['true'] };
    throw new FilterSyntaxError(next ? `unexpected ${quoteInput(next.text)}` : 'a literal alone is not a condition', next?.at ?? left.at);
  };

  const filter = or(0);
  const rest = cursor.peek();
  if (rest) throw new FilterSyntaxError(`unexpected ${quoteInput(rest.text)}`, rest.at);
  return filter;
}

function operand(cursor: TokenCursor, isWord: (word: string) => boolean): Operand {
  const t = cursor.take();
  if (t.kind === 'open_template') {
    const ref = readTemplate(cursor);
    cursor.take('}}');
    return { kind: 'ref', ref, at: t.at };
  }
  if (t.kind === 'string' || t.kind === 'number') return { kind: 'literal', value: t.text, at: t.at };
  if (t.kind === 'op' && t.text === '-' && cursor.peek()?.kind === 'number') return { kind: 'literal', value: `-${cursor.take().text}`, at: t.at };
  if (t.kind === 'word' && /^(TRUE|FALSE)$/i.test(t.text)) return { kind: 'literal', value: t.text.toLowerCase(), at: t.at };
  if (t.kind === 'word' && /^(TIMESTAMP|DATE)$/i.test(t.text) && cursor.peek()?.kind === 'string')
    return { kind: 'literal', value: cursor.take().text, at: t.at };
  if (t.kind === 'word' && t.text.toUpperCase() === 'CAST') return cast(cursor, isWord, t);
  if (t.kind === 'word' && !/^(AND|OR|NOT|IN|IS|NULL|BETWEEN|LIKE)$/i.test(t.text)) return { kind: 'ref', ref: { kind: 'dimension', name: t.text }, at: t.at };
  throw new FilterSyntaxError(`expected a template, a name or a literal, found ${quoteInput(t.text)}`, t.at);
}

function cast(cursor: TokenCursor, isWord: (word: string) => boolean, t: Token): Operand {
  cursor.take('(');
  const inner = operand(cursor, isWord);
  cursor.take('AS');
  const type = cursor.take();
  if (!CAST_TYPES.has(type.text.toUpperCase())) throw new FilterSyntaxError(`CAST to ${quoteInput(type.text)} is not supported`, type.at);
  if (cursor.peek()?.text === '(') {
    cursor.take('(');
    while (cursor.peek()?.text !== ')') cursor.take();
    cursor.take(')');
  }
  cursor.take(')');
  return { ...inner, at: t.at };
}

/** One comparison (a name against literals, either way round), counted against the limits. */
function compared(left: Operand, op: FilterOp, right: readonly Operand[], at: Token, limits: ConditionLimits): Filter {
  let subject = left;
  let values = right;
  let actual = op;
  if (left.kind === 'literal' && right.length === 1 && right[0]?.kind === 'ref') {
    subject = right[0];
    values = [left];
    actual = FLIPPED[op] ?? op;
  }
  if (subject.kind !== 'ref') throw new FilterSyntaxError('a condition needs a Dimension, TimeDimension, Entity, Metric or group-by name on one side', at.at);
  const texts = values.map((v) => {
    if (v.kind !== 'literal') throw new FilterSyntaxError('compare a name with literals only, not with another name', v.at);
    return v.value;
  });
  const problem = limits.comparison() ?? limits.values(texts);
  if (problem) throw new FilterSyntaxError(problem.message, problem.valueIndex === undefined ? at.at : (values[problem.valueIndex]?.at ?? at.at));
  if (subject.ref.kind === 'metric') return { kind: 'metric', metric: subject.ref.metric, groupBy: subject.ref.groupBy, op: actual, values: texts };
  return { kind: 'compare', dimension: subject.ref.name, op: actual, values: texts };
}

function like(left: Operand, t: Token, pattern: Operand, negated: boolean, limits: ConditionLimits): Filter {
  if (pattern.kind !== 'literal') throw new FilterSyntaxError('LIKE needs a quoted pattern', t.at);
  const p = pattern.value;
  const body = p.replace(/^%/, '').replace(/%$/, '');
  if (/[%_]/.test(body)) throw new FilterSyntaxError(`LIKE ${quoteInput(p)} is not supported; use 'prefix%' or '%text%'`, t.at);
  const op: FilterOp | undefined =
    p.startsWith('%') && p.endsWith('%') && p.length > 1 ? 'CONTAINS' : !p.startsWith('%') && p.endsWith('%') ? 'STARTS_WITH' : !/%/.test(p) ? 'EQ' : undefined;
  if (!op) throw new FilterSyntaxError(`LIKE ${quoteInput(p)} is not supported; use 'prefix%' or '%text%'`, t.at);
  const result = compared(left, op, [{ kind: 'literal', value: body, at: pattern.at }], t, limits);
  return negated ? { kind: 'not', filter: result } : result;
}
