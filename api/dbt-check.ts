import { existsSync } from 'node:fs';
import { importDbtProject } from '../modeling/dbt/import-dbt-project.ts';
import { CatalogValidationError } from '../modeling/catalog/validation-error.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { metricType } from '../modeling/catalog/describe.ts';

/**
 * `strata dbt check <path>`: imports a dbt semantic-layer project (a project folder, or
 * dbt's compiled `semantic_manifest.json`), prints its models, metrics by type, saved
 * queries and time spines, then what is served differently or not read, and every refused
 * definition, each with its reason. Returns the process exit code: 0 when the project
 * imports, 1 when it has errors.
 */
export function checkDbtProject(dir: string, schema: string, print: (line: string) => void): number {
  if (!existsSync(dir)) {
    print(`${dir}: no such folder or file; give a dbt project folder or its target/semantic_manifest.json`);
    return 1;
  }
  try {
    const { catalog, refused, notes, format, projectName } = importDbtProject(dir, { schema });
    const layer = createSemanticLayer(catalog, { maxRows: 1 });
    const byType = new Map<string, number>();
    for (const m of catalog.metrics) byType.set(metricType(layer.index, m), (byType.get(metricType(layer.index, m)) ?? 0) + 1);
    const custom = (catalog.timeSpines ?? []).flatMap((s) => s.customGranularities.map((c) => c.name));
    const what = format === 'manifest' ? 'compiled semantic manifest' : projectName ? `dbt project '${projectName}'` : 'semantic-layer YAML';
    print(
      `${dir} (${what}): ${catalog.models.length} semantic models, ${catalog.metrics.length} metrics (${[...byType].map(([t, n]) => `${n} ${t.toLowerCase()}`).join(', ')}), ${catalog.savedQueries?.length ?? 0} saved queries, ${catalog.timeSpines?.length ?? 0} time spines${custom.length ? ` (custom granularities: ${custom.join(', ')})` : ''}`,
    );
    for (const model of catalog.models) {
      print(
        `  model ${model.name} (${'table' in model.source ? model.source.table : 'sql'}): ${model.dimensions.length} dimensions, ${model.measures.length} measures, entities ${(model.entities ?? []).map((e) => `${e.name}:${e.type}`).join(', ')}`,
      );
    }
    const unplannable = catalog.metrics.flatMap((m) => {
      try {
        layer.plan({ metrics: [m.name], groupBy: [{ dimension: 'metric_time' }] });
        return [];
      } catch (error) {
        return [`  metric ${m.name}: ${(error as Error).message}`];
      }
    });
    if (unplannable.length) print(`${unplannable.length} metrics cannot be queried by metric_time:\n${unplannable.join('\n')}`);
    if (notes.length) print(`served differently or not read: ${notes.length}`);
    for (const n of notes) print(`  ${n.path}: ${n.message} [${n.code}]`);
    print(refused.length ? `refused ${refused.length}:` : 'refused nothing');
    for (const r of refused) print(`  ${r.path}: ${r.message} [${r.code}]`);
    return 0;
  } catch (error) {
    if (!(error instanceof CatalogValidationError)) throw error;
    print(`${dir}: ${error.problems.length} problems`);
    for (const p of error.problems) print(`  ${p.path}: ${p.message} [${p.code}]`);
    return 1;
  }
}
