import type { TypedDocumentString } from './generated/strata-console.ts';

/**
 * A refusal or failure as the server worded it: its code (`FORBIDDEN`, `BAD_USER_INPUT`...)
 * and message, and for a refusal that asks to come back later (`RATE_LIMITED`,
 * `UNAVAILABLE`) the seconds of its `Retry-After`.
 */
export class ApiError extends Error {
  readonly code: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The codes whose refusals say "come back later" (api/retryable-status.ts), with the wait when the server names none. */
const RETRYABLE: Readonly<Record<string, number>> = { RATE_LIMITED: 1, UNAVAILABLE: 5 };

/**
 * The seconds to wait before asking again for a read the server refused only for now
 * (RATE_LIMITED: its analytics capacity is taken; UNAVAILABLE: the database is out of
 * reach), from its Retry-After; null for any other failure.
 *
 * ```ts
 * retryDelayOf(new ApiError('RATE_LIMITED', 'busy', 3)); // 3
 * retryDelayOf(new ApiError('FORBIDDEN', 'no')); // null
 * ```
 */
export function retryDelayOf(error: unknown): number | null {
  if (!(error instanceof ApiError) || !Object.hasOwn(RETRYABLE, error.code)) return null;
  return error.retryAfterSeconds ?? RETRYABLE[error.code] ?? null;
}

/** Whole seconds of a Retry-After header or an error's `extensions.retryAfter`; undefined when absent or not a positive number. */
function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.ceil(n) : undefined;
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
  errors?: { message: string; extensions?: { code?: string; retryAfter?: unknown } }[];
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
  const retryAfter = seconds(response.headers.get('retry-after'));
  let answer: GraphQLAnswer<R>;
  try {
    answer = (await response.json()) as GraphQLAnswer<R>;
  } catch {
    throw new ApiError('UNAVAILABLE', `the server answered HTTP ${response.status} without GraphQL`, retryAfter);
  }
  const error = answer.errors?.[0];
  if (error) throw new ApiError(error.extensions?.code ?? 'ERROR', error.message, retryAfter ?? seconds(error.extensions?.retryAfter));
  if (!answer.data) throw new ApiError('ERROR', `HTTP ${response.status} without data`);
  return answer.data;
}

/** The message to show for a failure: the server's own words for a refused action. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
