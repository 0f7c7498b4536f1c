import type { Expression, ExpressionFunction } from './types.ts';

const FUNCTIONS: Readonly<Record<ExpressionFunction, [number, number]>> = {
  NULLIF: [2, 2],
  COALESCE: [1, Infinity],
  ABS: [1, 1],
  GREATEST: [1, Infinity],
  LEAST: [1, Infinity],
};

export class ExpressionSyntaxError extends Error {}

type Token = { kind: 'number' | 'name' | 'op'; text: string; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:((?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/(),]))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    pattern.lastIndex = at;
    const m = pattern.exec(text);
    if (!m) throw new ExpressionSyntaxError(`unexpected character at ${at + 1}: '${text.slice(at).trim()[0]}'`);
    const kind = m[1] ? 'number' : m[2] ? 'name' : 'op';
    tokens.push({ kind, text: (m[1] ?? m[2] ?? m[3]) as string, at });
    at = pattern.lastIndex;
  }
  return tokens;
}

/**
 * Parses a derived metric's arithmetic (`(bookings - ref) * 1.0 / NULLIF(ref, 0)`) into an
 * expression tree: numbers, metric names, + - * /, parentheses and a few SQL functions.
 * Nothing else is accepted, so the text never reaches SQL as written.
 */
export function parseExpression(text: string): Expression {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string): Token => {
    const t = tokens[i];
    if (!t || (expected !== undefined && t.text !== expected)) {
      throw new ExpressionSyntaxError(`expected ${expected ?? 'more input'}${t ? ` at ${t.at + 1}, found '${t.text}'` : ' at the end'}`);
    }
    i += 1;
    return t;
  };

  const sum = (): Expression => {
    let left = product();
    while (peek()?.text === '+' || peek()?.text === '-') {
      const op = take().text as '+' | '-';
      left = { kind: 'binary', op, left, right: product() };
    }
    return left;
  };
  const product = (): Expression => {
    let left = unary();
    while (peek()?.text === '*' || peek()?.text === '/') {
      const op = take().text as '*' | '/';
      left = { kind: 'binary', op, left, right: unary() };
    }
    return left;
  };
  const unary = (): Expression => {
    if (peek()?.text === '-') {
      take();
      return { kind: 'negate', operand: unary() };
    }
    if (peek()?.text === '+') take();
    return primary();
  };
  const primary = (): Expression => {
    const t = take();
    if (t.kind === 'number') {
      const value = Number(t.text);
      if (!Number.isFinite(value)) throw new ExpressionSyntaxError(`number out of range at ${t.at + 1}: ${t.text}`);
      return { kind: 'number', value, text: t.text };
    }
    if (t.text === '(') {
      const inner = sum();
      take(')');
      return inner;
    }
    if (t.kind === 'name' && peek()?.text === '(') return call(t);
    if (t.kind === 'name') return { kind: 'ref', name: t.text };
    throw new ExpressionSyntaxError(`unexpected '${t.text}' at ${t.at + 1}`);
  };
  const call = (name: Token): Expression => {
    const fn = name.text.toUpperCase() as ExpressionFunction;
    const arity = FUNCTIONS[fn];
    if (!arity) throw new ExpressionSyntaxError(`unknown function ${name.text}; use one of ${Object.keys(FUNCTIONS).join(', ')}`);
    take('(');
    const args = [sum()];
    while (peek()?.text === ',') {
      take();
      args.push(sum());
    }
    take(')');
    if (args.length < arity[0] || args.length > arity[1])
      throw new ExpressionSyntaxError(`${fn} takes ${arity[0]}${arity[1] === arity[0] ? '' : '+'} arguments`);
    return { kind: 'call', fn, args };
  };

  const expression = sum();
  if (i < tokens.length) throw new ExpressionSyntaxError(`unexpected '${tokens[i]?.text}' at ${(tokens[i]?.at ?? 0) + 1}`);
  return expression;
}

/** Names of the metrics (or aliases) an expression reads. */
export function referencedNames(expression: Expression): string[] {
  switch (expression.kind) {
    case 'number':
      return [];
    case 'ref':
      return [expression.name];
    case 'negate':
      return referencedNames(expression.operand);
    case 'binary':
      return [...referencedNames(expression.left), ...referencedNames(expression.right)];
    case 'call':
      return expression.args.flatMap(referencedNames);
  }
}

/** The text of a number literal as SQL reads it: as written, or (built in code) the value's shortest form. */
const LITERAL = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * A number literal's text, as the planner carries it: as written (`1.0` keeps its scale, so
 * PostgreSQL reads a numeric, not the integer `1`), or the value's own text when built in code.
 */
export function numberText(expression: Extract<Expression, { kind: 'number' }>): string {
  const text = expression.text ?? String(expression.value);
  if (!LITERAL.test(text)) throw new Error(`catalog invariant: '${text}' is not a number literal`);
  return text;
}
