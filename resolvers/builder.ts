import SchemaBuilder from '@pothos/core';
import type { RequestContext } from './context.ts';

/** The one schema builder; each area file adds its types, queries and mutations to it. */
export const builder = new SchemaBuilder<{
  Context: RequestContext;
  DefaultFieldNullability: false;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  defaultFieldNullability: false,
});

builder.queryType({});
builder.mutationType({});
