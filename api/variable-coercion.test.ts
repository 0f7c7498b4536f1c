import { buildSchema, getVariableValues, type OperationDefinitionNode, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { simpleVariableCoercer } from './variable-coercion.ts';

const schema = buildSchema(`
  scalar Json
  type Query { a(s: String, i: Int, j: Json, l: [String], ll: [[String]], e: Color): String }
  enum Color { RED }
`);

const definitionsOf = (text: string) => (parse(text).definitions[0] as OperationDefinitionNode).variableDefinitions ?? [];

const VALUES: readonly unknown[] = [
  'c0000001',
  '',
  'ü 😀',
  null,
  1,
  0,
  true,
  {},
  { a: 'x' },
  [],
  ['home_banner', 'wealth_mall_top'],
  ['a', null],
  [null],
  ['a', 1],
  [['a'], ['b', null]],
  [['a'], 'b'],
  [[]],
  undefined,
];

/** Every input object with each variable absent or set to each value (two variables: all pairs). */
function inputsFor(names: readonly string[]): Record<string, unknown>[] {
  let inputs: Record<string, unknown>[] = [{}];
  for (const name of names) {
    inputs = inputs.flatMap((input) => [input, ...VALUES.map((value) => ({ ...input, [name]: value }))]);
  }
  return inputs;
}

describe('simpleVariableCoercer', () => {
  const plain = [
    'query($s: String!) { a(s: $s) }',
    'query($s: String) { a(s: $s) }',
    'query($c: String!, $p: [String!]!) { a(s: $c, l: $p) }',
    'query($p: [String!]) { a(l: $p) }',
    'query($p: [String]!) { a(l: $p) }',
    'query($p: [String]) { a(l: $p) }',
    'query($p: [[String!]]) { a(ll: $p) }',
    'query { a }',
    'query($__proto__: String) { a(s: $__proto__) }',
  ];
  for (const text of plain) {
    it(`answers as graphql-js getVariableValues does, or defers to it: ${text}`, () => {
      const definitions = definitionsOf(text);
      const coercer = simpleVariableCoercer(schema, definitions);
      expect(coercer).not.toBeNull();
      let answered = 0;
      for (const inputs of inputsFor(definitions.map((d) => d.variable.name.value))) {
        const mine = coercer?.(inputs);
        const theirs = getVariableValues(schema, definitions, inputs);
        if (theirs.errors) {
          expect(mine, JSON.stringify(inputs)).toBeUndefined();
          continue;
        }
        if (mine === undefined) continue;
        answered += 1;
        expect(Object.getPrototypeOf(mine.coerced)).toBe(Object.getPrototypeOf(theirs.coerced));
        expect(Object.keys(mine.coerced)).toEqual(Object.keys(theirs.coerced));
        expect(mine.coerced).toStrictEqual(theirs.coerced);
        // Lists are new arrays, as graphql-js's Array.from makes them.
        for (const [name, value] of Object.entries(mine.coerced)) if (Array.isArray(value)) expect(value).not.toBe(inputs[name]);
      }
      // The plain inputs are answered here, not all deferred.
      expect(answered).toBeGreaterThan(0);
    });
  }

  it('leaves variables of other types, and variables with defaults, to graphql-js', () => {
    for (const text of [
      'query($i: Int) { a(i: $i) }',
      'query($j: Json) { a(j: $j) }',
      'query($e: Color) { a(e: $e) }',
      'query($s: String = "x") { a(s: $s) }',
      'query($s: String!, $i: Int!) { a(s: $s, i: $i) }',
    ]) {
      expect(simpleVariableCoercer(schema, definitionsOf(text)), text).toBeNull();
    }
  });

  it('defers a non-list value for a list variable (graphql-js wraps it) and a missing non-null variable', () => {
    const coercer = simpleVariableCoercer(schema, definitionsOf('query($c: String!, $p: [String!]!) { a(s: $c, l: $p) }'));
    expect(coercer?.({ c: 'x', p: 'home_banner' })).toBeUndefined();
    expect(getVariableValues(schema, definitionsOf('query($c: String!, $p: [String!]!) { a(s: $c, l: $p) }'), { c: 'x', p: 'home_banner' })).toStrictEqual({
      coerced: { c: 'x', p: ['home_banner'] },
    });
    expect(coercer?.({ p: [] })).toBeUndefined();
    expect(coercer?.({ c: 'x', p: ['a'] })?.coerced).toStrictEqual({ c: 'x', p: ['a'] });
  });
});
