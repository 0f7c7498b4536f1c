import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import './scalars.ts';
import './system.ts';

/** The GraphQL schema of every area. */
export const schema: GraphQLSchema = builder.toSchema();

/** The schema as sorted SDL: the checked-in `codegen/schema.graphql`. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
