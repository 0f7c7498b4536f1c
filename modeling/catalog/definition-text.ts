import { StrataError } from '../errors.ts';
import { quoteInput } from '../quote-input.ts';

/**
 * Caps on the governance text of definitions sent through the API (tags, audiences,
 * review reasons). Code-defined definitions are not held to them.
 */
export const DEFINITION_TEXT_LIMITS = Object.freeze({
  /** `description` of a tag or an audience. */
  description: 2000,
  /** `category` of a tag: a short label. */
  category: 64,
  /** `reason` of a rejection, deprecation or archiving. */
  reason: 1000,
});

/** Tag and audience keys: snake_case, 2-63 characters, starting with a letter. */
const KEY = /^[a-z][a-z0-9_]{1,62}$/;
/** A team slug (`wealth-data`) or a principal's name: the alphabet of API key names. */
const OWNER = /^[a-z0-9][a-z0-9_.@-]{0,62}$/i;
/** Controls other than tab, line feed and carriage return; NUL; unpaired surrogates. */
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function refuse(path: string, message: string): never {
  throw new StrataError('BAD_USER_INPUT', `${path}: ${message}`, { path });
}

/**
 * Checks free text of a definition (`description`, `category`, `reason`): at most its cap
 * in characters, and no control characters (line breaks and tabs are fine, except in a
 * category, which is one line). BAD_USER_INPUT naming the field and the cap otherwise.
 *
 * ```ts
 * checkDefinitionText('description', 'Customers who bought a fund in 30 days');
 * ```
 */
export function checkDefinitionText(field: keyof typeof DEFINITION_TEXT_LIMITS, text: string, path: string = field): void {
  const max = DEFINITION_TEXT_LIMITS[field];
  if (text.length > max) refuse(path, `at most ${max} characters, got ${text.length}`);
  if (FORBIDDEN.test(text)) refuse(path, 'must not contain control characters, NUL or unpaired surrogates');
  if (field === 'category' && (/[\r\n\t]/.test(text) || text.trim() !== text || text === '')) {
    refuse(path, 'a category is a short one-line label, without leading or trailing spaces');
  }
}

/** Checks a tag or audience key: snake_case, 2-63 characters, starting with a letter. */
export function checkDefinitionKey(key: string, path = 'key'): void {
  if (!KEY.test(key)) refuse(path, `${quoteInput(key)} must be snake_case, 2-63 characters, starting with a letter`);
}

/**
 * Checks an owner given through the API: a team slug such as `wealth-data` or a person's
 * name as API keys name them (letters, digits, `_`, `.`, `@`, `-`; at most 63). An owner
 * left out is the acting principal, which is not checked here.
 */
export function checkOwner(owner: string, path = 'owner'): void {
  if (!OWNER.test(owner)) refuse(path, `${quoteInput(owner)} must be a team slug or a user name: 1-63 letters, digits, '_', '.', '@' or '-', e.g. wealth-data`);
}
