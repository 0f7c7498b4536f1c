/**
 * SQL laid out one clause per line, indented by parenthesis depth, for golden files whose
 * diffs can be reviewed. Only whitespace outside quotes changes: the text compares equal
 * to the original once whitespace is collapsed.
 */
const CLAUSES = [
  'WITH',
  'SELECT',
  'FROM',
  'WHERE',
  'GROUP BY',
  'HAVING',
  'ORDER BY',
  'LIMIT',
  'UNION ALL',
  'LEFT JOIN',
  'INNER JOIN',
  'FULL JOIN',
  'CROSS JOIN',
  'JOIN',
] as const;

export function formatSql(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  let out = '';
  let depth = 0;
  let i = 0;
  const newline = () => {
    out = out.trimEnd();
    if (out.length > 0) out += `\n${'  '.repeat(depth)}`;
  };
  while (i < flat.length) {
    const ch = flat[i] as string;
    if (ch === "'" || ch === '"') {
      const end = closing(flat, i, ch);
      out += flat.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (ch === '(') depth += 1;
    if (ch === ')') depth = Math.max(0, depth - 1);
    const before = i === 0 ? ' ' : (flat[i - 1] as string);
    const clause = /[\s(]/.test(before) ? CLAUSES.find((c) => startsWord(flat, i, c)) : undefined;
    if (clause) {
      newline();
      out += clause;
      i += clause.length;
      continue;
    }
    out += ch;
    i += 1;
  }
  return out;
}

/** The index of the quote closing the one at `start` (a doubled quote is part of the text). */
function closing(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i;
    } else i += 1;
  }
  return text.length - 1;
}

function startsWord(text: string, at: number, word: string): boolean {
  if (text.slice(at, at + word.length) !== word) return false;
  const after = text[at + word.length];
  return after === undefined || /[\s(]/.test(after);
}
