/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query Catalog {\n  catalog {\n    models {\n      name\n      description\n      primaryKey\n      dimensions {\n        name\n        type\n        description\n      }\n      measures {\n        name\n        aggregation\n        description\n      }\n    }\n    metrics {\n      name\n      type\n      description\n      owner\n      status\n      timeDimension\n      dimensions\n      lineage {\n        models\n        measures\n        tables\n      }\n    }\n  }\n}": typeof types.CatalogDocument,
    "query MetricQuery($query: MetricQueryInput!) {\n  metrics(query: $query) {\n    columns {\n      name\n      kind\n      type\n    }\n    rows\n    sql\n  }\n}": typeof types.MetricQueryDocument,
    "query ServerHealth {\n  version\n  health {\n    ok\n    engine\n  }\n}": typeof types.ServerHealthDocument,
};
const documents: Documents = {
    "query Catalog {\n  catalog {\n    models {\n      name\n      description\n      primaryKey\n      dimensions {\n        name\n        type\n        description\n      }\n      measures {\n        name\n        aggregation\n        description\n      }\n    }\n    metrics {\n      name\n      type\n      description\n      owner\n      status\n      timeDimension\n      dimensions\n      lineage {\n        models\n        measures\n        tables\n      }\n    }\n  }\n}": types.CatalogDocument,
    "query MetricQuery($query: MetricQueryInput!) {\n  metrics(query: $query) {\n    columns {\n      name\n      kind\n      type\n    }\n    rows\n    sql\n  }\n}": types.MetricQueryDocument,
    "query ServerHealth {\n  version\n  health {\n    ok\n    engine\n  }\n}": types.ServerHealthDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Catalog {\n  catalog {\n    models {\n      name\n      description\n      primaryKey\n      dimensions {\n        name\n        type\n        description\n      }\n      measures {\n        name\n        aggregation\n        description\n      }\n    }\n    metrics {\n      name\n      type\n      description\n      owner\n      status\n      timeDimension\n      dimensions\n      lineage {\n        models\n        measures\n        tables\n      }\n    }\n  }\n}"): (typeof documents)["query Catalog {\n  catalog {\n    models {\n      name\n      description\n      primaryKey\n      dimensions {\n        name\n        type\n        description\n      }\n      measures {\n        name\n        aggregation\n        description\n      }\n    }\n    metrics {\n      name\n      type\n      description\n      owner\n      status\n      timeDimension\n      dimensions\n      lineage {\n        models\n        measures\n        tables\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MetricQuery($query: MetricQueryInput!) {\n  metrics(query: $query) {\n    columns {\n      name\n      kind\n      type\n    }\n    rows\n    sql\n  }\n}"): (typeof documents)["query MetricQuery($query: MetricQueryInput!) {\n  metrics(query: $query) {\n    columns {\n      name\n      kind\n      type\n    }\n    rows\n    sql\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ServerHealth {\n  version\n  health {\n    ok\n    engine\n  }\n}"): (typeof documents)["query ServerHealth {\n  version\n  health {\n    ok\n    engine\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;