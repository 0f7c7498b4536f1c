import { type ApolloServerPlugin, type GraphQLRequestListener, type HTTPGraphQLRequest, type HTTPGraphQLResponse, HeaderMap } from '@apollo/server';
import {
  type DocumentNode,
  execute,
  type ExecutionResult,
  type GraphQLFormattedError,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  type ParseOptions,
  parse,
  specifiedRules,
  type ValidationRule,
  validate,
} from 'graphql';
import { logger } from '../store/logger.ts';
import { asksForSchema } from './introspection-guard.ts';
import { executeProfileRead, planProfileRead, type ProfileReadPlan } from './profile-read-executor.ts';
import { type DecidePlan, executeDecide, planDecide } from './decide-executor.ts';
import { BoundedMap } from '../modeling/bounded-map.ts';

/** What the fast path needs: the same schema, rules, plugins and error formatting as the Apollo Server it stands in for. */
export interface FastPathOptions<Context extends object> {
  readonly schema: GraphQLSchema;
  /** Apollo's `validationRules` (graphql-js's specified rules are added, as Apollo does). */
  readonly validationRules: readonly ValidationRule[];
  readonly parseOptions: ParseOptions;
  /** Apollo's plugins, in Apollo's order; their request listeners run here as Apollo runs them. */
  readonly plugins: readonly ApolloServerPlugin<Context>[];
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Distinct documents kept (default 1,000; the oldest goes first). */
  readonly maxDocuments?: number;
  /** Longer query texts always go to Apollo (default 20,000 characters). */
  readonly maxQueryLength?: number;
  /** Plain profile reads run without graphql-js's per-field work (api/profile-read-executor.ts); default on. */
  readonly profileReadExecutor?: boolean;
  /** Plain `decide` mutations run without graphql-js's per-field work (api/decide-executor.ts); default on. */
  readonly decideExecutor?: boolean;
}

export interface GraphqlFastPath<Context extends object> {
  /**
   * The answer to a request whose document this path has parsed and validated before (or
   * parses and validates now, the first time), exactly as Apollo Server would give it; or
   * undefined, having run nothing (no context, no plugin), when Apollo must answer: another
   * method or content type, an `accept` other than JSON, persisted queries or other
   * extensions, a document that does not parse or validate, asks for the schema, or names
   * no single operation, a subscription, a query text over the length limit.
   */
  answer(request: HTTPGraphQLRequest, context: () => Promise<Context>): Promise<HTTPGraphQLResponse | undefined>;
  /** Requests answered here, requests left to Apollo, and of those answered, plain profile reads run by api/profile-read-executor.ts. */
  readonly counts: { served: number; passed: number; profileReads: number; decides: number };
}

/** A document this path serves: parsed, validated, and its operations by requested name. */
interface Prepared {
  readonly document: DocumentNode;
  readonly operations: Map<string | undefined, OperationDefinitionNode | null>;
  /**
   * Per operation: its plan when it is a plain profile read (api/profile-read-executor.ts) or
   * a plain `decide` (api/decide-executor.ts), else null.
   */
  readonly plans: Map<OperationDefinitionNode, Plan | null>;
}

type Plan = { readonly kind: 'profile'; readonly plan: ProfileReadPlan } | { readonly kind: 'decide'; readonly plan: DecidePlan };

type Listener<Context extends object> = GraphQLRequestListener<Context>;
/** The hooks Apollo calls for a cached document, which this path calls the same way. */
const SUPPORTED_HOOKS = new Set([
  'didResolveSource',
  'didResolveOperation',
  'didEncounterErrors',
  'executionDidStart',
  'willSendResponse',
  // Apollo does not call these for a document its store holds, and neither does this path.
  'parsingDidStart',
  'validationDidStart',
]);
const JSON_TYPE = 'application/json; charset=utf-8';
/**
 * The request headers this path reads (content type and accept) and the request listeners
 * it runs read (the authorization header, api/auth-status.ts): the HTTP handler copies only
 * these into the request it hands here (api/graphql-handler.ts), all of them for Apollo.
 * A plugin that reads another request header must add it here.
 */
export const FAST_PATH_HEADERS: readonly string[] = ['content-type', 'accept', 'authorization'];

/**
 * Apollo Server's request pipeline for POSTed JSON requests of already-validated documents,
 * without its per-request overhead (the query text hashed for its document store, every hook
 * of every plugin awaited whether defined or not, content negotiation, header copies):
 * the document is found by its text, the operation by its name, and the request listeners
 * of Apollo's plugins (authentication status, policy and rate limits, observation, error
 * masking) run exactly as Apollo runs them, around graphql-js `execute`; errors go through
 * the same normalization and `formatError`, the answer has the same status, headers and body.
 * Validation (graphql-armor's depth, alias, cost and directive rules included) runs once per
 * distinct document, as with Apollo's document store. test/graphql-fast-path.test.ts sends the
 * same requests through both and compares the answers.
 */
export function createGraphqlFastPath<Context extends object>(options: FastPathOptions<Context>): GraphqlFastPath<Context> {
  const { schema, plugins, formatError } = options;
  const rules = [...specifiedRules, ...options.validationRules];
  const maxDocuments = options.maxDocuments ?? 1_000;
  const maxQueryLength = options.maxQueryLength ?? 20_000;
  /** By query text: the prepared document, or null for a text Apollo must answer. */
  const documents = new BoundedMap<string, Prepared | null>(maxDocuments);
  const counts = { served: 0, passed: 0, profileReads: 0, decides: 0 };
  /** The plugins with request listeners (Apollo's own disabled-feature plugins have none). */
  const starters = plugins.filter((plugin) => plugin.requestDidStart !== undefined);

  const prepare = (query: string): Prepared | null => {
    let document: DocumentNode;
    try {
      document = parse(query, options.parseOptions);
    } catch {
      return null;
    }
    if (asksForSchema(document) || validate(schema, document, rules).length > 0) return null;
    return { document, operations: new Map(), plans: new Map() };
  };
  const preparedOf = (query: string): Prepared | null => {
    let prepared = documents.get(query);
    if (prepared === undefined) {
      prepared = prepare(query);
      documents.set(query, prepared);
    }
    return prepared;
  };
  const planOf = (operation: OperationDefinitionNode): Plan | null => {
    const profile = options.profileReadExecutor === false ? null : planProfileRead(schema, operation);
    if (profile) return { kind: 'profile', plan: profile };
    const decide = options.decideExecutor === false ? null : planDecide(schema, operation);
    return decide && { kind: 'decide', plan: decide };
  };
  const operationOf = (prepared: Prepared, name: string | undefined): OperationDefinitionNode | null => {
    const known = prepared.operations.get(name);
    if (known !== undefined) return known;
    const found = getOperationAST(prepared.document, name);
    const operation = !found || found.operation === 'subscription' ? null : found;
    prepared.operations.set(name, operation);
    if (operation) prepared.plans.set(operation, planOf(operation));
    return operation;
  };

  return {
    counts,
    async answer(http, context) {
      const fields = eligibleBody(http);
      const prepared = fields && fields.query.length <= maxQueryLength ? preparedOf(fields.query) : null;
      const operation = prepared && fields ? operationOf(prepared, fields.operationName) : null;
      if (!fields || !prepared || !operation) {
        counts.passed += 1;
        return undefined;
      }
      counts.served += 1;
      let contextValue: Context;
      try {
        contextValue = await context();
      } catch (maybeError) {
        const error = ensureError(maybeError);
        await Promise.all(plugins.map((plugin) => plugin.contextCreationDidFail?.({ error })));
        return errorAnswer(ensureGraphQLError(error, 'Context creation failed: '));
      }
      const requestContext = {
        schema,
        request: { query: fields.query, operationName: fields.operationName, variables: fields.variables, extensions: undefined, http },
        response: { http: { status: undefined as number | undefined, headers: new HeaderMap() }, body: undefined as unknown },
        // Apollo hands each request a shallow copy of the context value.
        contextValue: Object.assign(Object.create(Object.getPrototypeOf(contextValue) as object) as Context, contextValue),
        metrics: {},
        requestIsBatched: false,
        source: fields.query,
        document: prepared.document,
        operation,
        operationName: operation.name?.value || null,
        errors: undefined as readonly GraphQLError[] | undefined,
      };
      // Plugins receive the request context Apollo would give them (the fields they read).
      const hookContext = requestContext as never;
      try {
        const listeners = (await Promise.all(starters.map((plugin) => plugin.requestDidStart?.(hookContext)))).filter(
          (l): l is Listener<Context> => l !== undefined && l !== null,
        );
        for (const listener of listeners) if (!checked.has(listener)) checkHooks(listener);
        const didEncounterErrors = async (errors: readonly GraphQLError[]) => {
          requestContext.errors = errors;
          await callHook(listeners, 'didEncounterErrors', hookContext);
        };
        const finish = async () => {
          await callHook(listeners, 'willSendResponse', hookContext);
          return responseOf(requestContext.response);
        };
        const sendErrors = async (errors: readonly GraphQLError[]) => {
          await didEncounterErrors(errors);
          const { formatted, head } = formatErrors(errors);
          requestContext.response.body = { kind: 'single', singleResult: { errors: formatted } };
          mergeHead(requestContext.response.http, head);
          requestContext.response.http.status ??= 500;
          return finish();
        };
        await callHook(listeners, 'didResolveSource', hookContext);
        try {
          await callHook(listeners, 'didResolveOperation', hookContext);
        } catch (error) {
          return await sendErrors([ensureGraphQLError(error)]);
        }
        // As Apollo: every executionDidStart called, then awaited together (no promise at all when no listener has one).
        const executionListeners = listeners.some((l) => l.executionDidStart)
          ? (await Promise.all(listeners.map((l) => l.executionDidStart?.(hookContext)))).filter((l) => l !== undefined && l !== null)
          : [];
        executionListeners.reverse();
        if (executionListeners.some((l) => l.willResolveField)) throw new Error('willResolveField is not supported by the GraphQL fast path');
        try {
          const plan = prepared.plans.get(operation);
          const planned =
            plan?.kind === 'profile'
              ? await executeProfileRead(schema, plan.plan, requestContext.contextValue, fields.variables)
              : plan?.kind === 'decide'
                ? await executeDecide(schema, plan.plan, requestContext.contextValue, fields.variables)
                : undefined;
          if (planned) counts[plan?.kind === 'decide' ? 'decides' : 'profileReads'] += 1;
          const result: ExecutionResult =
            planned ??
            (await execute({
              schema,
              document: prepared.document,
              contextValue: requestContext.contextValue,
              variableValues: fields.variables,
              operationName: fields.operationName,
            }));
          const errors = result.errors?.map((e) => (isVariableCoercionError(e) && e.extensions?.code == null ? userInputError(e) : e));
          if (errors) await didEncounterErrors(errors);
          let formatted: GraphQLFormattedError[] | undefined;
          if (errors) {
            const answer = formatErrors(errors);
            formatted = answer.formatted;
            if (errors.length && result.data === undefined && !answer.head.status) answer.head.status = 400;
            mergeHead(requestContext.response.http, answer.head);
          }
          requestContext.response.body = { kind: 'single', singleResult: { ...result, errors: formatted } };
        } catch (maybeError) {
          const error = ensureError(maybeError);
          if (executionListeners.length > 0) await Promise.all(executionListeners.map((l) => l.executionDidEnd?.(error)));
          return await sendErrors([ensureGraphQLError(error)]);
        }
        if (executionListeners.length > 0) await Promise.all(executionListeners.map((l) => l.executionDidEnd?.()));
        return await finish();
      } catch (maybeError) {
        // Apollo's answer to a failure of the pipeline itself (a plugin hook that threw).
        const error = ensureError(maybeError);
        await Promise.all(plugins.map((plugin) => plugin.unexpectedErrorProcessingRequest?.({ requestContext: hookContext, error })));
        logger.error({ err: error.message }, 'unexpected error processing a GraphQL request');
        return errorAnswer(new Error('Internal server error'));
      }
    },
  };

  /** Apollo's normalization: a code on every error, `extensions.http` lifted into the answer's head, then `formatError`. */
  function formatErrors(errors: readonly unknown[]): { formatted: GraphQLFormattedError[]; head: Head } {
    const head = newHead();
    const formatted = errors.map((error) => {
      try {
        const graphqlError = ensureGraphQLError(error);
        const extensions: Record<string, unknown> = { ...graphqlError.extensions, code: graphqlError.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
        if (isPartialHead(extensions.http)) {
          mergeHead(head, extensions.http);
          delete extensions.http;
        }
        return formatError({ ...graphqlError.toJSON(), extensions }, error);
      } catch {
        return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
      }
    });
    return { formatted, head };
  }

  /** Apollo's answer to an error outside the operation (context creation, the pipeline): `{ errors }`, 500 unless the error says otherwise. */
  function errorAnswer(error: Error): HTTPGraphQLResponse {
    const { formatted, head } = formatErrors([error]);
    const headers = new HeaderMap([...head.headers, ['content-type', JSON_TYPE]]);
    return { status: head.status ?? 500, headers, body: { kind: 'complete', string: `${JSON.stringify({ errors: formatted })}\n` } };
  }
}

interface Head {
  status: number | undefined;
  readonly headers: HeaderMap;
}

const newHead = (): Head => ({ status: undefined, headers: new HeaderMap() });

function mergeHead(target: Head, source: { status?: number | undefined; headers?: Map<string, string> | undefined }): void {
  if (source.status) target.status = source.status;
  for (const [name, value] of source.headers ?? []) target.headers.set(name, value);
}

function isPartialHead(value: unknown): value is { status?: number; headers?: Map<string, string> } {
  if (!value || typeof value !== 'object') return false;
  const head = value as { status?: unknown; headers?: unknown };
  return (!('status' in head) || typeof head.status === 'number') && (!('headers' in head) || head.headers instanceof Map);
}

/** The HTTP answer of a single result, its fields in Apollo's order, JSON as Apollo writes it. */
function responseOf(response: { http: Head; body: unknown }): HTTPGraphQLResponse {
  const body = response.body as { kind: 'single'; singleResult: ExecutionResult };
  if (!response.http.headers.get('content-type')) response.http.headers.set('content-type', JSON_TYPE);
  const { errors, data, extensions } = body.singleResult;
  return {
    status: response.http.status,
    headers: response.http.headers,
    body: { kind: 'complete', string: `${JSON.stringify({ errors, data, extensions })}\n` },
  };
}

interface BodyFields {
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown> | undefined;
}

/**
 * The query, operation name and variables of a request Apollo would take as it comes: a
 * POST of a JSON object (a content type that passes Apollo's CSRF check, an answer in
 * `application/json`), with a non-empty query, and no extensions.
 */
function eligibleBody(http: HTTPGraphQLRequest): BodyFields | undefined {
  if (http.method !== 'POST') return undefined;
  const contentType = http.headers.get('content-type');
  if (contentType === undefined || contentType.split(';', 1)[0]?.trim().toLowerCase() !== 'application/json') return undefined;
  const accept = http.headers.get('accept');
  if (accept !== undefined && accept !== '*/*' && accept !== 'application/json') return undefined;
  const body = http.body;
  if (!isRecord(body)) return undefined;
  const { query, variables, operationName, extensions } = body;
  if (typeof query !== 'string' || query.length === 0) return undefined;
  if (extensions !== undefined && extensions !== null) return undefined;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  return { query, operationName: operationName ?? undefined, variables: variables ?? undefined };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}

type SharedHook = 'didResolveSource' | 'didResolveOperation' | 'didEncounterErrors' | 'willSendResponse';

/**
 * Calls `hook` of every listener that has it, in order, and waits for them together, as
 * Apollo does; without a promise per listener that has none (most have one or two hooks), or
 * any when no listener has it.
 */
function callHook<Context extends object>(listeners: readonly Listener<Context>[], hook: SharedHook, context: never): Promise<unknown> | undefined {
  let pending: unknown[] | undefined;
  for (const listener of listeners) {
    const call = listener[hook] as ((this: Listener<Context>, context: never) => unknown) | undefined;
    if (call) (pending ??= []).push(call.call(listener, context));
  }
  return pending && Promise.all(pending);
}

/** Listeners found to define only supported hooks (plugins that hand every request the same listener are checked once). */
const checked = new WeakSet<object>();

function checkHooks(listener: object): void {
  for (const hook of Object.keys(listener)) {
    if (!SUPPORTED_HOOKS.has(hook)) throw new Error(`the GraphQL fast path does not run the ${hook} hook; serve this plugin through Apollo`);
  }
  checked.add(listener);
}

/** graphql-js's errors for variable values that do not fit their types: Apollo answers them as BAD_USER_INPUT. */
function isVariableCoercionError(error: GraphQLError): boolean {
  const node = error.nodes?.length === 1 ? error.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return false;
  const name = `Variable "$${node.variable.name.value}"`;
  return ['has invalid value', 'got invalid value ', 'of required type ', 'of non-null type '].some((tail) => error.message.startsWith(`${name} ${tail}`));
}

function userInputError(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    originalError: error.originalError ?? error,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
  });
}

function ensureError(value: unknown): Error {
  return value instanceof Error ? value : new GraphQLError(`Unexpected error value: ${String(value)}`);
}

function ensureGraphQLError(value: unknown, prefix = ''): GraphQLError {
  const error = ensureError(value);
  return error instanceof GraphQLError ? error : new GraphQLError(prefix + error.message, { originalError: error });
}
