import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';

/**
 * Error codes that tell a client to come back later, with the HTTP status that carries them
 * and the wait (seconds) sent in `Retry-After` when the error names none. The one mapping
 * for GraphQL answers and the plain HTTP routes alike.
 */
const RETRYABLE = {
  UNAVAILABLE: { status: 503, retryAfterSeconds: 5 },
  RATE_LIMITED: { status: 429, retryAfterSeconds: 1 },
} as const;

/** The codes that ask a client to retry later. */
export type RetryableCode = keyof typeof RETRYABLE;

/** An answer that asks the client to retry: its HTTP status and `Retry-After` in seconds. */
export interface RetryableAnswer {
  readonly status: number;
  readonly retryAfterSeconds: number;
}

interface CodedError {
  readonly extensions?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The retry answer for a set of formatted errors, or undefined when none is retryable.
 * UNAVAILABLE (503) outranks RATE_LIMITED (429); the wait is the longest `extensions.retryAfter`
 * (whole seconds) among the errors of that code, else the code's default.
 *
 * ```ts
 * retryableAnswer([{ extensions: { code: 'RATE_LIMITED', retryAfter: 30 } }]); // { status: 429, retryAfterSeconds: 30 }
 * ```
 */
export function retryableAnswer(errors: readonly CodedError[]): RetryableAnswer | undefined {
  let answer: RetryableAnswer | undefined;
  for (const error of errors) {
    const code = error.extensions?.code;
    const rule = typeof code === 'string' && Object.hasOwn(RETRYABLE, code) ? RETRYABLE[code as RetryableCode] : undefined;
    if (!rule || (answer && answer.status > rule.status)) continue;
    const asked = error.extensions?.retryAfter;
    const wait = typeof asked === 'number' && Number.isFinite(asked) && asked > 0 ? Math.ceil(asked) : rule.retryAfterSeconds;
    const sameStatus = answer?.status === rule.status;
    answer = { status: rule.status, retryAfterSeconds: sameStatus ? Math.max(answer?.retryAfterSeconds ?? 0, wait) : wait };
  }
  return answer;
}

/** The retry answer for one code, for the plain HTTP routes (`retryAfter` in seconds overrides the default wait). */
export function retryableAnswerFor(code: RetryableCode, retryAfter?: number): RetryableAnswer {
  return retryableAnswer([{ extensions: { code, retryAfter } }]) ?? RETRYABLE[code];
}

/**
 * Sets HTTP 503 or 429 and `Retry-After` on a GraphQL answer whose errors include
 * UNAVAILABLE or RATE_LIMITED (Apollo answers 200, or 500 for request-level errors, otherwise).
 */
export function retryableStatusPlugin(): ApolloServerPlugin {
  // One listener for every request: it keeps no state of its own.
  const listener: GraphQLRequestListener<BaseContext> = {
    async willSendResponse({ response }) {
      const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
      const answer = errors ? retryableAnswer(errors) : undefined;
      if (!answer) return;
      response.http.status = answer.status;
      response.http.headers.set('retry-after', String(answer.retryAfterSeconds));
    },
  };
  return { requestDidStart: async () => listener };
}
