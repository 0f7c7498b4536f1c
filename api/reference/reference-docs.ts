import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { indexCatalog } from '../../modeling/catalog/catalog-index.ts';
import { withTagDimensions } from '../../modeling/tags/tag-dimensions.ts';
import { tagSubject } from '../../modeling/tags/tag-subject.ts';
import { schema } from '../../resolvers/schema.ts';
import type { Domain } from '../../modeling/domain/define-domain.ts';
import { metricsReference, modelsReference } from './catalog-reference.ts';
import { eventsReference, tagsReference } from './tag-event-reference.ts';
import { operationsReference } from './operations-reference.ts';

/** Where the generated reference lives, relative to the repository. */
export const REFERENCE_DIR = 'docs/reference';

export interface ReferenceDoc {
  /** File name inside `docs/reference`. */
  readonly name: string;
  readonly content: string;
}

/**
 * The reference pages generated from the definitions, so that they cannot drift: metrics,
 * models and dimensions, tags, events (from the domain: the CLI passes the bundled one) and
 * GraphQL operations (from the schema and the policy catalogue).
 */
export function referenceDocs(domain: Domain): ReferenceDoc[] {
  const catalog = withTagDimensions(domain.catalog, domain.subject, domain.tags);
  const index = indexCatalog(catalog);
  const catalogSource = `the \`${domain.name}\` domain's catalog, with its published tags as \`${domain.subject}.tag.*\` dimensions`;
  return [
    { name: 'metrics.md', content: metricsReference(index, catalogSource) },
    { name: 'models.md', content: modelsReference(index, catalogSource) },
    {
      name: 'tags.md',
      content: tagsReference(domain.tags, tagSubject(index, domain.subject), `the \`${domain.name}\` domain's code-defined tags and steward-tags file`),
    },
    { name: 'events.md', content: eventsReference(domain.events, `the \`${domain.name}\` domain's declared events`) },
    { name: 'operations.md', content: operationsReference(schema) },
  ];
}

/** Writes the reference into `root/docs/reference`, removing pages no longer generated; returns the paths written. */
export async function writeReferenceDocs(root: string, domain: Domain): Promise<string[]> {
  const dir = join(root, REFERENCE_DIR);
  await mkdir(dir, { recursive: true });
  const docs = referenceDocs(domain);
  const names = new Set(docs.map((d) => d.name));
  for (const stale of (await readdir(dir)).filter((name) => !names.has(name))) await rm(join(dir, stale));
  for (const doc of docs) await writeFile(join(dir, doc.name), doc.content);
  return docs.map((d) => join(REFERENCE_DIR, d.name));
}
