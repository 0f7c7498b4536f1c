/** YAML text of an exported project: plain, or with comments before the file and before items of its list. */
import { Document, isNode } from 'yaml';
import type { Yaml } from './export-context.ts';

/** YAML text, long lines kept whole. */
export function yamlText(body: Yaml): string {
  return new Document(body).toString({ lineWidth: 0 });
}

/** Lines as a `#` comment block. */
export function commentBlock(lines: readonly string[]): string {
  return `${lines.map((l) => `# ${l}`).join('\n')}\n`;
}

/** YAML with a comment before the whole file and before some items of its one list. */
export function withComments(body: Yaml, key: string, comments: ReadonlyMap<number, string>, top: string): string {
  const doc = new Document(body);
  if (top) doc.commentBefore = top.replace(/^/gm, ' ');
  for (const [i, text] of comments) {
    const item = doc.getIn([key, i], true);
    if (isNode(item)) item.commentBefore = text.replace(/^/gm, ' ');
  }
  return doc.toString({ lineWidth: 0 });
}
