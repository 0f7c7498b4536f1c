import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError, type ParseOptions, type ValidationRule } from 'graphql';
import { StrataError } from '../modeling/errors.ts';

/** The shape limits of a GraphQL document, checked once per distinct document (Apollo caches validated documents). */
export interface GraphqlLimits {
  /** Deepest selection nesting (`STRATA_MAX_DEPTH`). */
  readonly maxDepth: number;
  /** Most aliased fields in one operation (`STRATA_MAX_ALIASES`). */
  readonly maxAliases: number;
  /** Highest graphql-armor cost of one operation (`STRATA_MAX_COST`). */
  readonly maxCost: number;
  /** Most lexical tokens in one document (`STRATA_MAX_TOKENS`). */
  readonly maxTokens: number;
  /** Most directives in one operation (`STRATA_MAX_DIRECTIVES`). */
  readonly maxDirectives: number;
}

/**
 * Defaults that every documented operation passes with room to spare: the deepest documented
 * selection (`audience { members { edges { node { id } } } }`) is 5 levels, none uses an alias
 * or a directive, and the costliest is a members page of 1,000 (about 31,000 in armor's cost,
 * which multiplies a selection by its `first`); a `customers(ids:)` list of 1,000 literal ids
 * is about 1,000 tokens.
 */
export const DEFAULT_GRAPHQL_LIMITS: GraphqlLimits = {
  maxDepth: 8,
  maxAliases: 15,
  maxCost: 50_000,
  maxTokens: 10_000,
  maxDirectives: 20,
};

/** What Apollo Server needs to apply the limits: validation rules, plugins and parse options. */
export interface GraphqlProtection {
  readonly validationRules: ValidationRule[];
  readonly plugins: ApolloServerPlugin[];
  readonly parseOptions: ParseOptions;
}

/**
 * graphql-armor's depth, alias, cost and directive rules, with refusals reported as
 * BAD_USER_INPUT errors that name the limit and its variable, and field suggestions
 * ("Did you mean ...?") masked when introspection is off. The token limit is graphql-js's own
 * parser option (`maxTokens`, the check armor's token plugin makes, but it aborts the parse in
 * place: armor's Apollo plugin throws from `parsingDidStart`, which Apollo Server 5 answers
 * with a bare 500); `tokenLimitError` turns its syntax error into the same coded answer.
 *
 * ```ts
 * const protection = graphqlProtection(DEFAULT_GRAPHQL_LIMITS, { introspection: false });
 * new ApolloServer({ schema, ...protection, plugins: [...protection.plugins] });
 * ```
 */
export function graphqlProtection(limits: GraphqlLimits, options: { introspection: boolean }): GraphqlProtection {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ...refusal('maxDepth', limits.maxDepth, 'STRATA_MAX_DEPTH'), flattenFragments: true },
    maxAliases: { n: limits.maxAliases, ...refusal('maxAliases', limits.maxAliases, 'STRATA_MAX_ALIASES') },
    costLimit: { maxCost: limits.maxCost, ...refusal('maxCost', limits.maxCost, 'STRATA_MAX_COST'), flattenFragments: true },
    maxDirectives: { n: limits.maxDirectives, ...refusal('maxDirectives', limits.maxDirectives, 'STRATA_MAX_DIRECTIVES') },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: !options.introspection, mask: '(suggestions are hidden while introspection is off)' },
  }).protect();
  // Armor's declarations name Apollo's CommonJS types; the plugin objects are the same at run time.
  const plugins = armor.plugins as unknown as ApolloServerPlugin[];
  return { validationRules: armor.validationRules, plugins, parseOptions: { maxTokens: limits.maxTokens } };
}

/** Armor options that report a refusal to the validation context instead of throwing. */
function refusal(limit: string, max: number, variable: string) {
  const report: GraphQLArmorRejectCallback = (context, error) => {
    // Armor's text is "Syntax Error: Query depth limit of 8 exceeded, found 12."
    const message = `${error.message.replace(/^Syntax Error: /, '')} The limit is set by ${variable}.`;
    context?.reportError(new GraphQLError(message, { originalError: new StrataError('BAD_USER_INPUT', message, { limit, max }) }));
  };
  return { propagateOnRejection: false, exposeLimits: true, onReject: [report] };
}

const TOKEN_LIMIT = /^Syntax Error: Document contains more that (\d+) tokens\. Parsing aborted\.$/;

/**
 * The answer for a document refused by the parser's token limit, or undefined for any
 * other error: BAD_USER_INPUT with a message that states the limit.
 */
export function tokenLimitError(formatted: GraphQLFormattedError): GraphQLFormattedError | undefined {
  if (formatted.extensions?.code !== 'GRAPHQL_PARSE_FAILED') return undefined;
  const match = TOKEN_LIMIT.exec(formatted.message);
  if (!match) return undefined;
  const max = Number(match[1]);
  return {
    message: `The document has more than ${max.toLocaleString('en-US')} tokens, the limit set by STRATA_MAX_TOKENS; send long lists as variables.`,
    extensions: { code: 'BAD_USER_INPUT', limit: 'maxTokens', max },
  };
}
