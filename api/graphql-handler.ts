import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import type { RequestContext } from '../resolvers/context.ts';
import { readJsonBody } from './http-body.ts';

/** Serves Apollo Server on a plain Node request: the integration Apollo's own ones follow. */
export function createGraphqlHandler(
  apollo: ApolloServer<RequestContext>,
  options: { maxBodyBytes: number; context: (request: IncomingMessage) => Promise<RequestContext> },
) {
  return async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const body = request.method === 'POST' ? await readJsonBody(request, options.maxBodyBytes) : undefined;
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: request.method ?? 'GET', headers, search: url.search, body },
      context: () => options.context(request),
    });
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
