import { defaultFieldResolver, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { authorize, OPERATION_POLICIES, PUBLIC, type Action } from '../services/authorization.ts';
import type { RequestContext } from './context.ts';

type Policies = Readonly<Record<string, Action | typeof PUBLIC>>;

/**
 * Applies the one policy catalogue to a schema: every root query and mutation must have an
 * entry (the schema refuses to build otherwise), and every field with an entry checks it
 * before its resolver runs. A public field needs no credentials (and no database); any
 * other first authenticates the caller, then authorizes the action.
 */
export function enforcePolicies(schema: GraphQLSchema, policies: Policies = OPERATION_POLICIES): GraphQLSchema {
  const missing = rootFieldNames(schema).filter((name) => !(name in policies));
  if (missing.length > 0) throw new Error(`operations without a policy in services/authorization.ts: ${missing.join(', ')}`);
  for (const [coordinate, policy] of Object.entries(policies)) {
    const [typeName, fieldName] = coordinate.split('.') as [string, string];
    const type = schema.getType(typeName);
    const field = type && isObjectType(type) ? type.getFields()[fieldName] : undefined;
    if (!field) throw new Error(`policy for '${coordinate}', which the schema does not have`);
    if (policy === PUBLIC) continue;
    field.resolve = guarded(policy, field.resolve ?? defaultFieldResolver);
  }
  return schema;
}

/** `Query.x` and `Mutation.y` for every root field. */
export function rootFieldNames(schema: GraphQLSchema): string[] {
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
    .filter((type) => type !== null && type !== undefined)
    .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`));
}

function guarded(action: Action, resolve: GraphQLFieldResolver<unknown, RequestContext>): GraphQLFieldResolver<unknown, RequestContext> {
  return async (source, args, context, info) => {
    authorize((await context.session()).principal, action);
    return resolve(source, args, context, info);
  };
}
