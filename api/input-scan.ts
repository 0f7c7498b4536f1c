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
  kind: 'nesting',
  at: at + 1,
  message: `input nests more than ${MAX_INPUT_NESTING} levels of objects, lists or parentheses (at character ${at + 1})`,
});
const unstorable = (at: number): InputProblem => ({
  kind: 'unstorable',
  at: at + 1,
  message: `input holds a NUL character or an unpaired surrogate (at character ${at + 1}); such text cannot be stored`,
});

/** The code point of a `\u` escape at `i` (`\uXXXX`, or GraphQL's `\u{X...}`) and the escape's length. */
function readEscape(text: string, i: number): { code: number; length: number } | undefined {
  if (text.charCodeAt(i + 1) !== 117 /* u */) return undefined;
  if (text[i + 2] === '{') {
    const m = /^\{([0-9a-fA-F]{1,8})\}/.exec(text.slice(i + 2, i + 13));
    return m ? { code: parseInt(m[1] as string, 16), length: (m[0] as string).length + 2 } : undefined;
  }
  const hex = text.slice(i + 2, i + 6);
  return /^[0-9a-fA-F]{4}$/.test(hex) ? { code: parseInt(hex, 16), length: 6 } : undefined;
}

/** Characters that end or interrupt a quoted string. */
const STRING_STOP = /["\\\n\u0000]/g;
/** Characters the scan acts on outside strings. */
const SIGNIFICANT = /[{}[\]()"#\u0000]/g;

/**
 * Where `pattern` (global, one character per match) next matches from its `lastIndex`, or -1;
 * `test` rather than `exec`, which made a match array per character found (every request's
 * body and query are scanned).
 */
function nextStop(pattern: RegExp, text: string): number {
  return pattern.test(text) ? pattern.lastIndex - 1 : -1;
}

/** Scans a quoted string from the opening quote at `start`; returns the index of its closing quote or a problem. */
function scanString(text: string, start: number): number | InputProblem {
  STRING_STOP.lastIndex = start + 1;
  for (let i = nextStop(STRING_STOP, text); i >= 0; i = nextStop(STRING_STOP, text)) {
    const c = text.charCodeAt(i);
    if (c === QUOTE || c === 10) return i;
    if (c === 0) return unstorable(i);
    const escape = readEscape(text, i);
    if (!escape) {
      STRING_STOP.lastIndex = i + 2;
      continue;
    }
    if (escape.code === 0) return unstorable(i);
    if (escape.code >= 0xd800 && escape.code <= 0xdbff) {
      const low = readEscape(text, i + escape.length);
      if (!low || low.code < 0xdc00 || low.code > 0xdfff) return unstorable(i);
      STRING_STOP.lastIndex = i + escape.length + low.length;
      continue;
    }
    if (escape.code >= 0xdc00 && escape.code <= 0xdfff) return unstorable(i);
    STRING_STOP.lastIndex = i + escape.length;
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
  SIGNIFICANT.lastIndex = 0;
  for (let i = nextStop(SIGNIFICANT, text); i >= 0; i = nextStop(SIGNIFICANT, text)) {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91 || c === 40) {
      // { [ (
      depth += 1;
      if (depth > MAX_INPUT_NESTING) return nesting(i);
    } else if (c === 125 || c === 93 || c === 41) {
      // } ] )
      depth -= 1;
    } else if (c === QUOTE) {
      const block = syntax === 'graphql' && text.startsWith('"""', i);
      const end = block ? scanBlockString(text, i) : scanString(text, i);
      if (typeof end !== 'number') return end;
      SIGNIFICANT.lastIndex = end + 1;
    } else if (c === 35 /* # */) {
      if (syntax !== 'graphql') continue;
      const end = text.indexOf('\n', i);
      SIGNIFICANT.lastIndex = end < 0 ? text.length : end + 1;
    } else {
      return unstorable(i); // a raw NUL
    }
  }
  return undefined;
}
