import { writeFile } from 'node:fs/promises';
import { listDefinitions } from '../store/definition-store.ts';
import type { StoredTagBody } from '../services/tag-registry.ts';
import { cliConfig, withDatabase } from './cli-database.ts';

/** `strata tags export`: writes the published steward-defined tags as a definitions file. */
export async function runTagsExport(out: string): Promise<void> {
  const stored = await withDatabase(cliConfig(), 'tags export', (database) => listDefinitions<StoredTagBody>(database.db, 'tag'));
  const specs = stored
    .filter((d) => d.body.published && d.status !== 'ARCHIVED')
    .map((d) => ({ ...d.body.published?.spec, status: d.status === 'DEPRECATED' ? 'DEPRECATED' : 'PUBLISHED' }));
  await writeFile(out, `${JSON.stringify(specs, null, 2)}\n`);
  console.log(`wrote ${specs.length} tag definition(s) to ${out}`);
}
