import {
  type GraphQLInputType,
  type GraphQLSchema,
  GraphQLString,
  isInputType,
  isListType,
  isNonNullType,
  typeFromAST,
  type VariableDefinitionNode,
} from 'graphql';

/**
 * What graphql-js `getVariableValues` returns for these inputs, computed without it; or
 * undefined when the inputs are not of the plain shape it handles (then graphql-js must run,
 * and gives its errors or its coercion).
 */
export type VariableCoercer = (inputs: Readonly<Record<string, unknown>>) => { readonly coerced: Record<string, unknown> } | undefined;

/** A variable's type: `String`, or a list of such, each possibly non-null. */
type Shape = { readonly nonNull: boolean } & ({ readonly kind: 'string' } | { readonly kind: 'list'; readonly item: Shape });

/** Stands for "not of the plain shape": graphql-js decides. */
const REFUSED = Symbol('refused');

/**
 * A coercer of an operation's variables when every one is a `String` or a list of them
 * (non-null or not) without a default value, as `decide(customerId: $c, placements: $p)` and
 * `customer(id: $id)` declare them; else null. graphql-js resolves the variable types from the
 * document and walks each value with paths and error callbacks on every request (10-14 us for
 * `String!` and `[String!]!`, the largest part of the decide executor's own work); the types
 * are resolved here once per operation. For inputs of exactly those types (strings, arrays of
 * strings, null where allowed, absent nullable variables) the result is the one graphql-js
 * gives: an object with the variables present, each string as sent and each list a new array. Anything else (a wrong type, a missing non-null variable, a non-list value
 * where graphql-js would wrap it in a list) goes back to graphql-js.
 */
export function simpleVariableCoercer(schema: GraphQLSchema, definitions: readonly VariableDefinitionNode[]): VariableCoercer | null {
  const variables: { readonly name: string; readonly shape: Shape }[] = [];
  for (const definition of definitions) {
    if (definition.defaultValue) return null;
    const type = typeFromAST(schema, definition.type);
    const shape = type && isInputType(type) ? shapeOf(type) : null;
    if (!shape) return null;
    variables.push({ name: definition.variable.name.value, shape });
  }
  return (inputs) => {
    const coerced = Object.create(null) as Record<string, unknown>;
    for (const { name, shape } of variables) {
      if (!Object.hasOwn(inputs, name)) {
        if (shape.nonNull) return undefined;
        continue;
      }
      const value = coerce(inputs[name], shape);
      if (value === REFUSED) return undefined;
      coerced[name] = value;
    }
    // graphql-js returns a copy made by spreading its null-prototype object (a variable may be named `__proto__`).
    return { coerced: { ...coerced } };
  };
}

function shapeOf(type: GraphQLInputType): Shape | null {
  const nonNull = isNonNullType(type);
  const inner = nonNull ? type.ofType : type;
  // The specified String scalar itself: its parseValue takes strings as they are.
  if (inner === GraphQLString) return { nonNull, kind: 'string' };
  if (isListType(inner)) {
    const item = shapeOf(inner.ofType as GraphQLInputType);
    return item && { nonNull, kind: 'list', item };
  }
  return null;
}

function coerce(value: unknown, shape: Shape): unknown {
  if (value === null) return shape.nonNull ? REFUSED : null;
  if (shape.kind === 'string') return typeof value === 'string' ? value : REFUSED;
  if (!Array.isArray(value)) return REFUSED;
  const out: unknown[] = [];
  for (const element of value) {
    const item = coerce(element, shape.item);
    if (item === REFUSED) return REFUSED;
    out.push(item);
  }
  return out;
}
