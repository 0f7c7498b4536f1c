// A graphql-codegen plugin: one typed document per operation, as its text, in a file that
// imports nothing. It follows `documentMode: string` of the typed-document-node plugin, but
// declares its `DocumentTypeDecoration` itself instead of importing it from
// @graphql-typed-document-node/core (whose peer dependency is graphql), so a client copies
// the generated file and needs no package at all, at run time or to type-check.
import { Kind, print } from 'graphql';

const PREAMBLE = `
/**
 * The type carrier of a typed document, with the same shape as \`DocumentTypeDecoration\` of
 * \`@graphql-typed-document-node/core\`: clients that accept those documents (graphql-request,
 * urql, Apollo Client) accept these too.
 */
export interface DocumentTypeDecoration<TResult, TVariables> {
  __apiType?: (variables: TVariables) => TResult;
}

/** An operation's text, typed with its result and variables: send \`document.toString()\` as \`query\`. */
export class TypedDocumentString<TResult, TVariables> extends String implements DocumentTypeDecoration<TResult, TVariables> {
  declare __apiType?: (variables: TVariables) => TResult;
}

/** The result type of a typed document. */
export type ResultOf<T> = T extends DocumentTypeDecoration<infer R, infer _V> ? R : never;
/** The variables type of a typed document. */
export type VariablesOf<T> = T extends DocumentTypeDecoration<infer _R, infer V> ? V : never;
`;

const SUFFIX = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };

/** Text safe inside a template literal. */
const templateText = (text) => text.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${');

/** @type {import('@graphql-codegen/plugin-helpers').PluginFunction} */
export const plugin = (_schema, documents) => {
  const lines = [];
  for (const file of documents) {
    for (const definition of file.document?.definitions ?? []) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) throw new Error(`${file.location}: fragments are not supported; inline them`);
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const name = definition.name?.value;
      // PascalCase names keep the types' names (typescript-operations) and ours in step.
      if (!name || !/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error(`${file.location}: name each operation in PascalCase (got ${name ?? 'none'})`);
      const type = `${name}${SUFFIX[definition.operation]}`;
      lines.push(`export const ${name}Document = new TypedDocumentString<${type}, ${type}Variables>(\`\n${templateText(print(definition))}\n\`);`);
    }
  }
  return { prepend: [PREAMBLE], content: lines.join('\n\n') };
};
