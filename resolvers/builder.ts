import SchemaBuilder from '@pothos/core';
import type { RequestContext } from './context.ts';

/** A JSON string, number or boolean: a tag value, an allowed value of an event property. */
export type JsonPrimitive = string | number | boolean;
/** One row of a metric result, keyed by column name. */
export type MetricRow = { readonly [column: string]: JsonPrimitive | null };

/** The one schema builder; each area file adds its types, queries and mutations to it. */
export const builder = new SchemaBuilder<{
  Context: RequestContext;
  DefaultFieldNullability: false;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    JSONPrimitive: { Input: JsonPrimitive; Output: JsonPrimitive };
    MetricRow: { Input: MetricRow; Output: MetricRow };
  };
}>({
  defaultFieldNullability: false,
});

builder.queryType({});
builder.mutationType({});
