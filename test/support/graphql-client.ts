import { expect } from 'vitest';

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GqlResponse {
  data?: Record<string, any> | null;
  errors?: GqlError[];
}

/**
 * POSTs GraphQL to a running app with an optional bearer token. `ok` returns the data of a
 * request that must succeed (failing the test with the errors otherwise).
 */
export function graphqlClient(baseUrl: () => string) {
  const post = async (token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResponse> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${baseUrl()}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return (await response.json()) as GqlResponse;
  };
  const ok = async (token: string | null, query: string, variables?: Record<string, unknown>): Promise<Record<string, any>> => {
    const body = await post(token, query, variables);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data as Record<string, any>;
  };
  return { post, ok };
}

/**
 * POSTs a GraphQL request body to `${base}/graphql` with a bearer token and returns the answer
 * as sent: status, content type and the body's text (for byte-for-byte comparisons of two servers).
 */
export async function postGraphqlRaw(base: string, token: string, body: unknown): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}
