import { randomUUID } from 'node:crypto';

/** The longest `X-Request-Id` a client may choose; a longer one is replaced. */
export const MAX_REQUEST_ID_LENGTH = 128;

const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * The id of a request: the client's `X-Request-Id` when it is printable ASCII of at most
 * 128 characters (not blank), otherwise a fresh random UUID. The server returns it on every
 * answer and writes it in every log line of the request, so a client reporting an error can
 * quote it.
 *
 * ```ts
 * requestIdOf('checkout-7f3a'); // 'checkout-7f3a'
 * requestIdOf('a\nb');          // a random UUID
 * ```
 */
export function requestIdOf(header: string | readonly string[] | undefined): string {
  const value = typeof header === 'string' ? header.trim() : undefined;
  if (value && value.length <= MAX_REQUEST_ID_LENGTH && PRINTABLE.test(value)) return value;
  return randomUUID();
}
