/** Deepest nesting of braces, brackets and parentheses a request's JSON or GraphQL text may hold. */
export const MAX_INPUT_NESTING = 64;

/** What the scan refuses: nesting past the limit, or text PostgreSQL cannot store. */
export interface InputProblem {
  readonly kind: 'nesting' | 'unstorable';
  /** 1-based character position in the scanned text. */
  readonly at: number;
  readonly message: string;
}

const QUOTE = 34;
const BACKSLASH = 92;

const nesting = (at: number): InputProblem => ({
  kind: 'nesting', at: at + 1,
  message: `input nests more than ${MAX_INPUT_NESTING} levels of objects, lists or parentheses (at character ${at + 1})`,
});
const unstorable = (at: number): InputProblem => ({
  kind: 'unstorable', at: at + 1,
  message: `input holds a NUL character or an unpaired surrogate (at character ${at + 1}); such text cannot be stored`,
});

/** The code point of a `\u` escape at `i` (`\uXXXX`, or GraphQL's `\u{X...}`) and the escape's length. */
function readEscape(text: string, i: number): { code: number; length: number } | undefined {
  if (text.charCodeAt(i + 1) !== 117 /* u */) return undefined;
  if (text[i + 2] === '{') {
    const end = text.indexOf('}', i + 3);
    const hex = end > 0 ? text.slice(i + 3, end) : '';
    return /^[0-9a-fA-F]{1,8}$/.test(hex) ? { code: parseInt(hex, 16), length: end - i + 1 } : undefined;
  }
  const hex = text.slice(i + 2, i + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? { code: parseInt(hex, 16), length: 6 } : undefined;
}

/** Scans a quoted string from the opening quote at `start`; returns the index of its closing quote or a problem. */
function scanString(text: string, start: number): number | InputProblem {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE || c === 10) return i;
    if (c === 0) return unstorable(i);
    if (c !== BACKSLASH) continue;
    const escape = readEscape(text, i);
    if (!escape) {
      i += 1;
      continue;
    }
    if (escape.code === 0) return unstorable(i);
    if (escape.code >= 0xd800 && escape.code <= 0xdbff) {
      const low = readEscape(text, i + escape.length);
      if (!low || low.code < 0xdc00 || low.code > 0xdfff) return unstorable(i);
      i += escape.length + low.length - 1;
      continue;
    }
    if (escape.code >= 0xdc00 && escape.code <= 0xdfff) return unstorable(i);
    i += escape.length - 1;
  }
  return text.length;
}

/** Index of the last quote closing a GraphQL block string (`"""..."""`) opened at `start`, or a problem. */
function scanBlockString(text: string, start: number): number | InputProblem {
  for (let i = start + 3; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return unstorable(i);
    if (c === BACKSLASH && text.startsWith('"""', i + 1)) i += 3;
    else if (c === QUOTE && text.startsWith('"""', i)) return i + 2;
  }
  return text.length;
}

/**
 * Scans JSON or GraphQL text before it is parsed: nesting deeper than `MAX_INPUT_NESTING`
 * (which would exhaust the stack of a recursive parser or of GraphQL's input coercion) and
 * NUL or unpaired surrogates, raw or escaped (`\u0000`, `\ud800`), which PostgreSQL cannot
 * store. Linear in the text; strings and GraphQL comments do not count as nesting.
 *
 * ```ts
 * scanInputText('{"a":"x\\u0000"}', 'json'); // { kind: 'unstorable', at: 8, ... }
 * ```
 */
export function scanInputText(text: string, syntax: 'json' | 'graphql'): InputProblem | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91 || c === 40) { // { [ (
      depth += 1;
      if (depth > MAX_INPUT_NESTING) return nesting(i);
    } else if (c === 125 || c === 93 || c === 41) { // } ] )
      depth -= 1;
    } else if (c === QUOTE) {
      const block = syntax === 'graphql' && text.startsWith('"""', i);
      const end = block ? scanBlockString(text, i) : scanString(text, i);
      if (typeof end !== 'number') return end;
      i = end;
    } else if (c === 35 /* # */ && syntax === 'graphql') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (c === 0) {
      return unstorable(i);
    }
  }
  return undefined;
}
