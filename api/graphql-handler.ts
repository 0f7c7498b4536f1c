import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApolloServer, HeaderMap } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import type { RequestContext } from '../resolvers/context.ts';
import { BodyTooLargeError, MalformedBodyError, readJsonBody } from './http-body.ts';
import { scanInputText } from './input-scan.ts';
import { currentObservation } from './request-observation.ts';
import { FAST_PATH_HEADERS, type GraphqlFastPath } from './graphql-fast-path.ts';
import { tracingRegistered } from './tracing.ts';

/** Serves Apollo Server on a plain Node request: the integration Apollo's own ones follow. */
export function createGraphqlHandler(
  apollo: ApolloServer<RequestContext>,
  options: {
    maxBodyBytes: number;
    context: (request: IncomingMessage) => Promise<RequestContext>;
    /** Answers requests of documents it has validated before, as Apollo would (api/graphql-fast-path.ts). */
    fastPath?: GraphqlFastPath<RequestContext> | undefined;
  },
) {
  const { fastPath } = options;
  return async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    let body: unknown;
    try {
      body = request.method === 'POST' ? await readJsonBody(request, options.maxBodyBytes) : undefined;
      const problem = request.method === 'POST' ? postedProblem(body) : searchProblem(url.searchParams);
      if (problem) throw new MalformedBodyError(problem);
    } catch (error) {
      const status = error instanceof BodyTooLargeError ? 413 : error instanceof MalformedBodyError ? 400 : undefined;
      if (status === undefined) throw error;
      currentObservation()?.errorCodes.add('BAD_USER_INPUT');
      return refuse(response, status, (error as Error).message);
    }
    const method = request.method ?? 'GET';
    const context = () => options.context(request);
    const answer = async () => {
      // The fast path and the plugins it runs read only FAST_PATH_HEADERS; Apollo gets them all.
      const fast = fastPath && (await fastPath.answer({ method, headers: copyHeaders(request, FAST_PATH_HEADERS), search: url.search, body }, context));
      return (
        fast ?? (await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: { method, headers: copyHeaders(request), search: url.search, body }, context }))
      );
    };
    // The operation's span: SQL statements its resolvers run become its children (none while tracing is off).
    const result = tracingRegistered()
      ? await trace.getTracer('strata').startActiveSpan('graphql', async (span) => {
          const observation = currentObservation();
          if (observation) observation.operationSpan = span;
          try {
            return await answer();
          } finally {
            span.end();
          }
        })
      : await answer();
    for (const [name, value] of result.headers) response.setHeader(name, value);
    response.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      response.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  };
}

/** The request's headers (or only those `names`) as Apollo takes them: repeated ones joined with `, `. */
function copyHeaders(request: IncomingMessage, names: readonly string[] = Object.keys(request.headers)): HeaderMap {
  const headers = new HeaderMap();
  for (const name of names) {
    const value = request.headers[name];
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/**
 * The GraphQL text of a POST body, scanned after JSON decoding: its own string escapes
 * (`"\u0000"` inside the query) and its nesting are invisible in the JSON around it.
 */
function postedProblem(body: unknown): string | undefined {
  const query = body !== null && typeof body === 'object' ? (body as { query?: unknown }).query : undefined;
  if (typeof query !== 'string') return undefined;
  const problem = scanInputText(query, 'graphql');
  return problem && `query: ${problem.message}`;
}

/** GET: the query and its JSON parameters (`variables`, `extensions`) as decoded from the URL. */
function searchProblem(search: URLSearchParams): string | undefined {
  for (const [name, value] of search) {
    const problem = scanInputText(value, name === 'query' ? 'graphql' : 'json');
    if (problem) return `${name}: ${problem.message}`;
  }
  return undefined;
}

/**
 * A request refused before GraphQL runs, answered as GraphQL-over-HTTP does: a 4xx status
 * and `{ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] }`.
 */
function refuse(response: ServerResponse, status: number, message: string): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.end(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] }));
}
