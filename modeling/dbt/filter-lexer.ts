import { quoteInput } from '../quote-input.ts';

/** A token of MetricFlow's filter text. Templates (`{{ ... }}`) are lexed inside the same stream. */
export interface Token {
  readonly kind: 'string' | 'number' | 'word' | 'op' | 'open_template' | 'close_template';
  readonly text: string;
  readonly at: number;
}

/** A filter that cannot be read; `at` is the 1-based character position. */
export class FilterSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(`${message} (at character ${at})`);
  }
}

const SPACE = /\s*/y;
const PATTERN =
  /\s*(?:(\{\{)|(\}\})|'((?:[^']|'')*)'|"((?:[^"\\]|\\.)*)"|(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|<>|!=|==|[=<>(),.[\]-]))/y;

/**
 * Splits filter text into tokens. Quoted strings keep their content unescaped; anything
 * the filter language does not know (`;`, `--`, `/*`, backticks...) is refused here.
 *
 * ```ts
 * lexFilter("{{ Dimension('booking__is_instant') }} AND x = 'a'");
 * ```
 */
export function lexFilter(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    SPACE.lastIndex = at;
    SPACE.exec(text);
    if (SPACE.lastIndex >= text.length) break;
    PATTERN.lastIndex = at;
    const m = PATTERN.exec(text);
    if (!m) {
      const offset = SPACE.lastIndex;
      throw new FilterSyntaxError(`unexpected character ${quoteInput(String.fromCodePoint(text.codePointAt(offset) ?? 0))}`, offset + 1);
    }
    const start = at + (m[0].length - m[0].trimStart().length) + 1;
    if (m[1]) tokens.push({ kind: 'open_template', text: '{{', at: start });
    else if (m[2]) tokens.push({ kind: 'close_template', text: '}}', at: start });
    else if (m[3] !== undefined) tokens.push({ kind: 'string', text: m[3].replaceAll("''", "'"), at: start });
    else if (m[4] !== undefined) tokens.push({ kind: 'string', text: m[4].replace(/\\(.)/g, '$1'), at: start });
    else if (m[5]) tokens.push({ kind: 'number', text: m[5], at: start });
    else if (m[6]) tokens.push({ kind: 'word', text: m[6], at: start });
    else tokens.push({ kind: 'op', text: m[7] as string, at: start });
    at = PATTERN.lastIndex;
  }
  return tokens;
}
