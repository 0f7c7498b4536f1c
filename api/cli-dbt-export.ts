import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exportDbtProject } from '../modeling/dbt/export-dbt-project.ts';
import { bundledDomain } from './bundled-domain.ts';

/**
 * `strata dbt export [--out DIR]`: writes the bundled domain as a dbt semantic-layer project
 * in the authoring form, then prints the files and what MetricFlow cannot express.
 */
export async function runDbtExport(options: { out: string }, print: (line: string) => void = console.log): Promise<void> {
  const domain = bundledDomain();
  const { files, notes, counts } = exportDbtProject({
    projectName: `strata_${domain.name}`,
    catalog: domain.catalog,
    tagKeys: domain.tags.map((t) => t.key),
    subject: domain.subject,
  });
  for (const [path, text] of files) {
    const target = join(options.out, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
  }
  print(`wrote ${files.size} files to ${options.out}: ${counts.models} semantic models, ${counts.metrics} metrics, ${counts.savedQueries} saved queries`);
  if (notes.length) print(`MetricFlow cannot express ${notes.length} things as Strata serves them:`);
  for (const n of notes) print(`  ${n}`);
}
