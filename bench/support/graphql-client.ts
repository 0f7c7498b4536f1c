export interface GraphqlAnswer<T> {
  readonly data?: T | null;
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
}

/** POSTs one GraphQL operation; resolves with the parsed answer and the round trip in ms (body read and parsed). */
export async function postGraphql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ ms: number; answer: GraphqlAnswer<T> }> {
  const body = JSON.stringify({ query, variables });
  const started = performance.now();
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const answer = JSON.parse(await response.text()) as GraphqlAnswer<T>;
  return { ms: performance.now() - started, answer };
}
