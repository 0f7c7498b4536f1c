import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { indexCatalog } from '../../modeling/catalog/catalog-index.ts';
import { withTagDimensions } from '../../modeling/tags/tag-dimensions.ts';
import { tagSubject } from '../../modeling/tags/tag-subject.ts';
import { schema } from '../../resolvers/schema.ts';
import { wealthDomain } from '../../domains/wealth/index.ts';
import { wealthEvents } from '../../domains/wealth/events.ts';
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
 * models and dimensions, tags, events (from the bundled domain) and GraphQL operations
 * (from the schema and the policy catalogue).
 */
export function referenceDocs(): ReferenceDoc[] {
  const domain = wealthDomain();
  const catalog = withTagDimensions(domain.catalog, domain.tagSubject, domain.tags);
  const index = indexCatalog(catalog);
  return [
    { name: 'metrics.md', content: metricsReference(index) },
    { name: 'models.md', content: modelsReference(index) },
    { name: 'tags.md', content: tagsReference(domain.tags, tagSubject(index, domain.tagSubject)) },
    { name: 'events.md', content: eventsReference(wealthEvents) },
    { name: 'operations.md', content: operationsReference(schema) },
  ];
}

/** Writes the reference into `root/docs/reference`, removing pages no longer generated; returns the paths written. */
export async function writeReferenceDocs(root: string): Promise<string[]> {
  const dir = join(root, REFERENCE_DIR);
  await mkdir(dir, { recursive: true });
  const docs = referenceDocs();
  const names = new Set(docs.map((d) => d.name));
  for (const stale of (await readdir(dir)).filter((name) => !names.has(name))) await rm(join(dir, stale));
  for (const doc of docs) await writeFile(join(dir, doc.name), doc.content);
  return docs.map((d) => join(REFERENCE_DIR, d.name));
}
