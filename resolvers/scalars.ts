import { Kind, type ValueNode } from 'graphql';
import { builder, type JsonPrimitive, type MetricRow } from './builder.ts';

function literalToValue(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(literalToValue);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalToValue(f.value)]));
    case Kind.VARIABLE:
      throw new TypeError('variables inside JSON literals are not supported');
  }
}

builder.scalarType('JSON', {
  description: 'Any JSON value: an object, array, string, number, boolean or null.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node) => literalToValue(node),
});

// Two JSON scalars whose values are narrower than any JSON: the wire format is the same as
// JSON's, but the schema (and so the generated client) says what a value can be.
builder.scalarType('JSONPrimitive', {
  description: 'A JSON string, number or boolean (null where the field is nullable): a tag value, an allowed value of an event property.',
  serialize: (value) => value,
  parseValue: (value) => value as JsonPrimitive,
  parseLiteral: (node) => literalToValue(node) as JsonPrimitive,
});

builder.scalarType('MetricRow', {
  description:
    "One row of a metric result: a JSON object keyed by column name (see `columns`) whose values are strings, numbers or booleans as the column's `type` says (dates as `YYYY-MM-DD` strings, metrics as numbers), or null.",
  serialize: (value) => value,
  parseValue: (value) => value as MetricRow,
  parseLiteral: (node) => literalToValue(node) as MetricRow,
});
