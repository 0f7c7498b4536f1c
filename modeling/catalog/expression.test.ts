import { describe, expect, it } from 'vitest';
import { ExpressionSyntaxError, parseExpression, referencedNames } from './expression.ts';

describe('parseExpression', () => {
  it('keeps precedence and parentheses', () => {
    expect(parseExpression('a - b / NULLIF(b, 0)')).toEqual({
      kind: 'binary',
      op: '-',
      left: { kind: 'ref', name: 'a' },
      right: {
        kind: 'binary',
        op: '/',
        left: { kind: 'ref', name: 'b' },
        right: {
          kind: 'call',
          fn: 'NULLIF',
          args: [
            { kind: 'ref', name: 'b' },
            { kind: 'number', value: 0, text: '0' },
          ],
        },
      },
    });
    expect(referencedNames(parseExpression('(x - y) * 1.0 / -z'))).toEqual(['x', 'y', 'z']);
  });

  it.each([
    ['a; DROP TABLE x', /unexpected character/],
    ['a +', /expected more input/],
    ['pg_sleep(10)', /unknown function/],
    ['(a', /expected \)/],
    ["a || 'x'", /unexpected/],
  ])('refuses %s', (text, message) => {
    expect(() => parseExpression(text)).toThrow(ExpressionSyntaxError);
    expect(() => parseExpression(text)).toThrow(message);
  });
});
