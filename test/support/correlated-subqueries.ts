/**
 * Finds correlated subqueries in generated SQL, the shape Citus 12 refuses in a statement
 * whose FROM holds a CTE or subquery (every metric statement is one). A subquery is
 * correlated when it names a table alias (`alias.column`) that nothing inside it defines:
 * the names defined inside are the tables and CTEs it reads (after FROM or JOIN) and every
 * `AS name`. Written for the compiler's own output (aliases always qualified, quoted or
 * not), not for SQL in general.
 */

interface Token {
  readonly kind: 'word' | 'quoted' | 'string' | 'symbol' | 'open' | 'close';
  readonly text: string;
}

interface Group {
  readonly items: (Token | Group)[];
}

const isGroup = (item: Token | Group | undefined): item is Group => item !== undefined && 'items' in item;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === "'") {
      let j = i + 1;
      while (j < text.length && !(text[j] === "'" && text[j + 1] !== "'")) j += text[j] === "'" ? 2 : 1;
      tokens.push({ kind: 'string', text: text.slice(i, j + 1) });
      i = j + 1;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && !(text[j] === '"' && text[j + 1] !== '"')) j += text[j] === '"' ? 2 : 1;
      tokens.push({ kind: 'quoted', text: text.slice(i + 1, j).replace(/""/g, '"') });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'word', text: match[0] });
      i += match[0].length;
    } else if (ch === '(') {
      tokens.push({ kind: 'open', text: ch });
      i += 1;
    } else if (ch === ')') {
      tokens.push({ kind: 'close', text: ch });
      i += 1;
    } else {
      tokens.push({ kind: 'symbol', text: ch });
      i += 1;
    }
  }
  return tokens;
}

function nest(tokens: readonly Token[]): Group {
  const root: Group = { items: [] };
  const stack: Group[] = [root];
  for (const token of tokens) {
    const top = stack[stack.length - 1] as Group;
    if (token.kind === 'open') {
      const group: Group = { items: [] };
      top.items.push(group);
      stack.push(group);
    } else if (token.kind === 'close') {
      stack.pop();
      if (stack.length === 0) throw new Error('unbalanced parentheses');
    } else {
      top.items.push(token);
    }
  }
  return root;
}

const isName = (item: Token | Group | undefined): item is Token => !isGroup(item) && item !== undefined && (item.kind === 'word' || item.kind === 'quoted');
const keyword = (item: Token | Group | undefined, ...words: string[]) => !isGroup(item) && item?.kind === 'word' && words.includes(item.text.toUpperCase());
const startsSubquery = (group: Group): boolean => keyword(group.items[0], 'SELECT', 'WITH') || (isGroup(group.items[0]) && startsSubquery(group.items[0]));

/** Names defined anywhere inside a group, and `alias.column` qualifiers used anywhere inside it. */
function scan(group: Group, defined: Set<string>, used: Set<string>): void {
  const { items } = group;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (isGroup(item)) {
      scan(item, defined, used);
      continue;
    }
    if (keyword(item, 'FROM', 'JOIN')) {
      // A table or CTE read: the last part of its (possibly qualified) name is a name here.
      let j = i + 1;
      while (isName(items[j]) && !isGroup(items[j + 1]) && (items[j + 1] as Token | undefined)?.text === '.' && isName(items[j + 2])) j += 2;
      if (isName(items[j]) && !keyword(items[j], 'LATERAL')) defined.add((items[j] as Token).text);
      const next = items[j + 1];
      // An alias without AS.
      if (
        isName(next) &&
        !keyword(next, 'AS', 'WHERE', 'GROUP', 'ORDER', 'LEFT', 'RIGHT', 'INNER', 'FULL', 'CROSS', 'JOIN', 'ON', 'LIMIT', 'UNION', 'HAVING', 'WINDOW')
      )
        defined.add(next.text);
      i = j;
      continue;
    }
    if (keyword(item, 'AS') && isName(items[i + 1])) {
      defined.add((items[i + 1] as Token).text);
      continue;
    }
    const dot = items[i + 1];
    if (isName(item) && !isGroup(dot) && dot?.text === '.' && isName(items[i + 2]) && !isGroup(items[i + 3])) {
      used.add(item.text);
      i += 2;
    }
  }
}

/** Every correlated subquery of a statement, as the start of its text and the outer aliases it names. */
export function correlatedSubqueries(statement: string): { readonly outer: readonly string[]; readonly text: string }[] {
  const found: { outer: string[]; text: string }[] = [];
  const visit = (group: Group) => {
    for (const item of group.items) {
      if (!isGroup(item)) continue;
      if (startsSubquery(item)) {
        const defined = new Set<string>();
        const used = new Set<string>();
        scan(item, defined, used);
        const outer = [...used].filter((name) => !defined.has(name));
        if (outer.length > 0) found.push({ outer, text: render(item).slice(0, 160) });
      }
      visit(item);
    }
  };
  visit(nest(tokenize(statement)));
  return found;
}

function render(group: Group): string {
  return `(${group.items.map((item) => (isGroup(item) ? render(item) : item.kind === 'quoted' ? `"${item.text}"` : item.text)).join(' ')})`;
}
