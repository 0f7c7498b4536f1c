import type { Catalog } from '../catalog/types.ts';
import { createExportContext } from './export-context.ts';
import { exportMetrics } from './export-metrics.ts';
import { exportSavedQueries } from './export-saved-queries.ts';
import { exportSemanticModels } from './export-semantic-models.ts';
import { dbtProjectFile, stageTables, stagingFiles } from './export-staging.ts';
import { withComments, yamlText } from './export-yaml.ts';

/** What is exported: a catalog, and the domain's tags (which MetricFlow has no place for). */
export interface ExportInput {
  /** The dbt project name (`dbt_project.yml`), a snake_case word. */
  readonly projectName: string;
  readonly catalog: Catalog;
  /** Keys of the domain's tags, served by Strata as dimensions of `subject` (`customer.tag.<key>`). */
  readonly tagKeys?: readonly string[];
  readonly subject?: string;
}

export interface ExportedProject {
  /** Files by path relative to the project folder. */
  readonly files: ReadonlyMap<string, string>;
  /** What MetricFlow cannot express the way Strata serves it, and what the export did about it. */
  readonly notes: readonly string[];
  readonly counts: { readonly models: number; readonly metrics: number; readonly savedQueries: number };
}

/**
 * Writes a catalog as a dbt semantic-layer project in the authoring form: `dbt_project.yml`,
 * a source per schema, one staging model per table (`select * from {{ source(...) }}`),
 * `semantic_models` reading them with `ref()`, `metrics`, `saved_queries` and `groups` (one
 * per owner). What MetricFlow cannot say the way Strata serves it is written as Strata meta
 * where Strata can read it back (`strata_time_zone`, `strata_storage`, `strata_type`,
 * `strata_conversion`), said in YAML comments, and listed in `notes`.
 *
 * ```ts
 * const { files, notes } = exportDbtProject({ projectName: 'strata_wealth', catalog });
 * ```
 */
export function exportDbtProject(input: ExportInput): ExportedProject {
  const ctx = createExportContext(input.catalog);
  const { semanticModels, comments: modelComments } = exportSemanticModels(ctx);
  if (input.tagKeys?.length) {
    ctx.note(
      `tags: ${input.tagKeys.length} customer tags (${input.tagKeys.slice(0, 5).join(', ')}${input.tagKeys.length > 5 ? ', ...' : ''}) are served by Strata as dimensions ${input.subject ?? 'customer'}.tag.<key>; MetricFlow has no such dimensions, so they are not exported`,
    );
  }
  const { metrics, comments: metricComments } = exportMetrics(ctx);
  const savedQueries = exportSavedQueries(ctx);
  const staging = stageTables(ctx);

  const files = new Map<string, string>([['dbt_project.yml', dbtProjectFile(input.projectName, staging)], ...stagingFiles(staging)]);
  files.set('models/groups.yml', yamlText({ groups: [...ctx.owners].map(([name, owner]) => ({ name, owner: { name: owner } })) }));
  files.set('models/semantic_models.yml', withComments({ semantic_models: semanticModels }, 'semantic_models', modelComments, notesHeader(ctx.notes)));
  files.set('models/metrics.yml', withComments({ metrics }, 'metrics', metricComments, ''));
  if (savedQueries.length) files.set('models/saved_queries.yml', yamlText({ saved_queries: savedQueries }));
  return { files, notes: ctx.notes, counts: { models: semanticModels.length, metrics: metrics.length, savedQueries: savedQueries.length } };
}

function notesHeader(notes: readonly string[]): string {
  if (notes.length === 0) return '';
  return ['What MetricFlow cannot express as Strata serves it (also printed by `strata dbt export`):', ...notes.map((n) => `- ${n}`)].join('\n');
}
