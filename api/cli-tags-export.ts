import { writeFile } from 'node:fs/promises';
import { listDefinitions } from '../store/definition-store.ts';
import type { StoredTagBody } from '../services/tag-registry.ts';
import { cliConfig, ranOnBaselineWasm, withDatabase } from './cli-database.ts';
import { bundledDomain } from './bundled-domain.ts';

/**
 * `strata tags export`: writes the published steward-defined tags as a definitions file, by
 * default the bundled domain's steward-tags file that the server loads them from.
 */
export async function runTagsExport(outOption: string | undefined): Promise<void> {
  const out = outOption ?? bundledDomain().stewardTagsFile;
  if (out === undefined) throw new Error(`the bundled domain '${bundledDomain().name}' names no steward-tags file: pass --out <file>`);
  const config = cliConfig();
  if (await ranOnBaselineWasm(config)) return;
  const stored = await withDatabase(config, 'tags export', (database) => listDefinitions<StoredTagBody>(database.db, 'tag'));
  const specs = stored
    .filter((d) => d.body.published && d.status !== 'ARCHIVED')
    .map((d) => ({ ...d.body.published?.spec, status: d.status === 'DEPRECATED' ? 'DEPRECATED' : 'PUBLISHED' }));
  await writeFile(out, `${JSON.stringify(specs, null, 2)}\n`);
  console.log(`wrote ${specs.length} tag definition(s) to ${out}`);
}
