import type { TypedDocumentString } from './generated/strata-console.ts';

/** A refusal or failure as the server worded it: its code (`FORBIDDEN`, `BAD_USER_INPUT`...) and message. */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const TOKEN_KEY = 'strata.console.credential';

/** The key or token of this tab: session storage only (gone when the tab closes), never in a URL. */
export const credential = {
  read: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  write: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

interface GraphQLAnswer<R> {
  data?: R | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * Sends one typed operation to the same `/graphql` every client uses, with the tab's
 * credential. Resolves with the data, or rejects with the first error as the server worded it.
 */
export async function gql<R, V>(document: TypedDocumentString<R, V>, variables: V, token: string | null = credential.read()): Promise<R> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new ApiError('UNAVAILABLE', 'the server cannot be reached');
  }
  let answer: GraphQLAnswer<R>;
  try {
    answer = (await response.json()) as GraphQLAnswer<R>;
  } catch {
    throw new ApiError('UNAVAILABLE', `the server answered HTTP ${response.status} without GraphQL`);
  }
  const error = answer.errors?.[0];
  if (error) throw new ApiError(error.extensions?.code ?? 'ERROR', error.message);
  if (!answer.data) throw new ApiError('ERROR', `HTTP ${response.status} without data`);
  return answer.data;
}

/** The message to show for a failure: the server's own words for a refused action. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
