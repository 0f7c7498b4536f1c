/** NUL and unpaired surrogates: PostgreSQL `text` and `jsonb` cannot hold them. */
const UNSTORABLE = /[\u0000\ud800-\udfff]/u;

/** The message for text holding what PostgreSQL cannot store. */
export const UNSTORABLE_MESSAGE = 'must not contain NUL or unpaired surrogate characters';

/**
 * Whether PostgreSQL can store the string as text: no NUL (U+0000) and no unpaired
 * surrogate (a well-formed pair, e.g. an emoji, is fine).
 *
 * ```ts
 * isStorableText('a\u0000b'); // false
 * isStorableText('😀');       // true
 * ```
 */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}
