import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { BREAK, visit, type DocumentNode } from 'graphql';
import { StrataError } from '../modeling/errors.ts';
import type { RequestContext } from '../resolvers/context.ts';

/**
 * Introspection (`__schema`, `__type`) answers only callers with a role: with anonymous
 * access off, the schema is not published to the world. (It can also be switched off for
 * everyone: STRATA_INTROSPECTION, off by default when NODE_ENV=production.)
 */
export function introspectionGuardPlugin(): ApolloServerPlugin<RequestContext> {
  // Apollo hands the same document object to every request with the same text (its
  // document store), so the walk runs once per distinct document, not per request.
  const asks = new WeakMap<DocumentNode, boolean>();
  // One listener for every request: it keeps no state of its own.
  const listener: GraphQLRequestListener<RequestContext> = {
    async didResolveOperation({ document, contextValue }) {
      let schemaAsked = asks.get(document);
      if (schemaAsked === undefined) asks.set(document, (schemaAsked = asksForSchema(document)));
      if (!schemaAsked) return;
      const { principal } = await contextValue.session();
      if (principal.role === null) {
        throw new StrataError('UNAUTHENTICATED', principal.problem ?? 'introspection needs credentials: send Authorization: Bearer <api key or token>');
      }
    },
  };
  return { requestDidStart: async () => listener };
}

/** Whether any field of the document (fragments included) is `__schema` or `__type`. */
export function asksForSchema(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value !== '__schema' && node.name.value !== '__type') return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}
