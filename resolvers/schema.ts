import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import { enforcePolicies } from './policies.ts';
import './scalars.ts';
import './system.ts';
import './catalog.ts';
import './metrics.ts';
import './tags.ts';
import './catalog-events.ts';
import './customers.ts';
import './audiences.ts';
import './insight.ts';
import './materialization.ts';
import './events.ts';
import './audit.ts';
import './customer-events.ts';
import './api-keys.ts';
import './viewer.ts';
import './decision-definitions.ts';
import './decision-mutations.ts';
import './decisions.ts';
import './experiment-results.ts';
import './goals.ts';
import './funnels.ts';
import './metric-change.ts';
import './dashboards.ts';
import './monitors.ts';

/** The GraphQL schema of every area, each operation guarded by its policy. */
export const schema: GraphQLSchema = enforcePolicies(builder.toSchema());

/** The schema as sorted SDL: the checked-in `codegen/schema.graphql`. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
