import { describe, expect, it } from 'vitest';
import { MAX_INPUT_NESTING, scanInputText } from './input-scan.ts';

const deepJson = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

describe('scanInputText', () => {
  it('accepts ordinary JSON and GraphQL, brackets in strings and comments included', () => {
    expect(scanInputText('{"query":"{ a(x: \\"{[(\\") }","variables":{"e":"😀 \\ud83d\\ude00","b":"\\\\u0000"}}', 'json')).toBeUndefined();
    expect(scanInputText('# {{{{ ((( \n{ a(x: "}}}", y: """ {[( \\""" """) { b } }', 'graphql')).toBeUndefined();
    expect(scanInputText(deepJson(MAX_INPUT_NESTING), 'json')).toBeUndefined();
  });

  it('refuses nesting past the limit, at the character where it happens', () => {
    expect(scanInputText(deepJson(MAX_INPUT_NESTING + 1), 'json')).toMatchObject({ kind: 'nesting', at: MAX_INPUT_NESTING + 1 });
    expect(scanInputText(`{ a(w: ${'{ not: '.repeat(5000)}1${' }'.repeat(5000)}) }`, 'graphql')).toMatchObject({ kind: 'nesting' });
  });

  it.each([
    ['a JSON \\u0000 escape', '{"a":"x\\u0000"}', 'json'],
    ['a JSON key with \\u0000', '{"a\\u0000":1}', 'json'],
    ['a lone high surrogate', '{"a":"\\ud800x"}', 'json'],
    ['a lone low surrogate', '["\\udc00"]', 'json'],
    ['a raw NUL', '{"a":"x\u0000"}', 'json'],
    ['a GraphQL \\u0000 escape', '{ a(x: "\\u0000") }', 'graphql'],
    ['a GraphQL \\u{0} escape', '{ a(x: "\\u{000}") }', 'graphql'],
    ['a raw NUL in a block string', '{ a(x: """x\u0000""") }', 'graphql'],
    ['a raw NUL outside strings', '{ version }\u0000', 'graphql'],
  ])('refuses %s', (_name, text, syntax) => {
    expect(scanInputText(text, syntax as 'json' | 'graphql')).toMatchObject({ kind: 'unstorable' });
  });
});
