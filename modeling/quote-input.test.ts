import { describe, expect, it } from 'vitest';
import { MAX_ECHOED_CHARACTERS, quoteInput } from './quote-input.ts';

describe('quoteInput', () => {
  it('quotes short text as it is', () => {
    expect(quoteInput('purchase_amout')).toBe("'purchase_amout'");
    expect(quoteInput('高净值')).toBe("'高净值'");
  });

  it('truncates long text to the limit, with an ellipsis', () => {
    const quoted = quoteInput('x'.repeat(200_000));
    expect(quoted).toBe(`'${'x'.repeat(MAX_ECHOED_CHARACTERS - 1)}…'`);
    expect(quoteInput('y'.repeat(MAX_ECHOED_CHARACTERS))).toBe(`'${'y'.repeat(MAX_ECHOED_CHARACTERS)}'`);
    expect(quoteInput('y'.repeat(MAX_ECHOED_CHARACTERS + 1))).toHaveLength(MAX_ECHOED_CHARACTERS + 2);
  });

  it('counts characters, not UTF-16 units, and never splits a surrogate pair', () => {
    const emoji = '😀'.repeat(MAX_ECHOED_CHARACTERS + 5);
    expect(quoteInput(emoji)).toBe(`'${'😀'.repeat(MAX_ECHOED_CHARACTERS - 1)}…'`);
  });

  it('replaces control characters and unpaired surrogates', () => {
    expect(quoteInput('a\u0000b\nc\u001b[31m\u007f\ud800')).toBe("'a\ufffdb\ufffdc\ufffd[31m\ufffd\ufffd'");
  });
});
