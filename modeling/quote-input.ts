/** Longest echo of request text in a message, in characters (code points). */
export const MAX_ECHOED_CHARACTERS = 80;

/** C0 and C1 controls, DEL, and unpaired surrogates: shown as U+FFFD. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Request text as it may appear inside an error message: quoted, at most
 * `MAX_ECHOED_CHARACTERS` characters (longer text ends in an ellipsis), with control
 * characters and unpaired surrogates replaced by U+FFFD. Every message that repeats what a
 * client sent goes through it, so a 200 KB name is not sent back.
 *
 * ```ts
 * quoteInput('purchase_amout');    // "'purchase_amout'"
 * quoteInput('x'.repeat(200_000)); // "'xxx…'" (80 characters between the quotes)
 * ```
 */
export function quoteInput(text: string, max = MAX_ECHOED_CHARACTERS): string {
  // Slice generously in code units first, so a huge input is never copied or scanned whole.
  const head = text.length > max * 2 + 2 ? text.slice(0, max * 2 + 2) : text;
  const characters = Array.from(head.replace(UNPRINTABLE, '\ufffd'));
  const truncated = text.length > head.length || characters.length > max;
  const shown = truncated ? `${characters.slice(0, max - 1).join('')}…` : characters.join('');
  return `'${shown}'`;
}
