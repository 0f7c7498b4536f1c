import type { Catalog, Metric, SavedQuery, TimeSpine } from '../catalog/types.ts';
import { buildCatalog } from '../catalog/build-catalog.ts';
import { inputMetrics } from '../catalog/lineage.ts';
import { ProblemCollector, type Problem } from '../catalog/validation-error.ts';
import { readProject } from './read-project.ts';
import { YamlNode } from './yaml-node.ts';
import { importSemanticModel, type ImportedMeasure } from './import-semantic-model.ts';
import { importMetric } from './import-metric.ts';
import { importSavedQuery, importTimeSpines } from './import-project-config.ts';
import { withEntityJoins } from './entity-joins.ts';

export interface DbtImport {
  readonly catalog: Catalog;
  /** Definitions left out because Strata cannot serve them faithfully, each with its reason. */
  readonly refused: readonly Problem[];
}

export interface DbtImportOptions {
  /** Replaces `$source_schema` in node relations and time spines. */
  readonly schema: string;
}

/**
 * Reads a dbt semantic-layer project (semantic_models, metrics, saved_queries,
 * project_configuration) into a validated, immutable catalog. Every problem, with its file
 * and path, is reported at once as a `CatalogValidationError`; definitions Strata refuses
 * (approximate percentiles, and metrics built on them) are listed in `refused`.
 *
 * ```ts
 * const { catalog, refused } = importDbtProject('./dbt/models', { schema: 'analytics' });
 * ```
 */
export function importDbtProject(dir: string, options: DbtImportOptions): DbtImport {
  const problems = new ProblemCollector();
  const refusals = new ProblemCollector();
  const refusedMeasures = new Set<string>();
  const refuse = (at: YamlNode, message: string, measure?: string) => {
    refusals.add(at.where, 'REFUSED', message);
    if (measure) refusedMeasures.add(measure);
  };
  const entries = readProject(dir, problems);
  const node = (e: (typeof entries)[number]) => new YamlNode(e.value, e.file, e.at, problems);

  const imported = entries.filter((e) => e.kind === 'semantic_model').flatMap((e) => importSemanticModel(node(e), options.schema, refuse) ?? []);
  const measures = new Map<string, ImportedMeasure>();
  for (const { measures: list } of imported) {
    for (const m of list) {
      if (measures.has(m.measure.name))
        problems.add(
          `semantic_models.${m.model}.measures.${m.measure.name}`,
          'DUPLICATE_NAME',
          `measure '${m.measure.name}' is defined in '${measures.get(m.measure.name)?.model}' and '${m.model}'`,
        );
      measures.set(m.measure.name, m);
    }
  }
  const timeSpines: TimeSpine[] = entries.filter((e) => e.kind === 'project_configuration').flatMap((e) => importTimeSpines(node(e), options.schema));
  const customGrains = new Set(timeSpines.flatMap((s) => s.customGranularities.map((c) => c.name)));
  const refusedMetrics = new Set<string>();
  const defined = entries
    .filter((e) => e.kind === 'metric')
    .flatMap((e) => {
      const metric = importMetric(node(e), { measures, customGrains, refusedMeasures, refuse });
      if (metric === 'refused') refusedMetrics.add(String((e.value as { name?: unknown }).name));
      return metric === 'refused' || !metric ? [] : [metric];
    });
  const created = [...measures.values()]
    .filter((m) => m.createMetric && !defined.some((d) => d.name === m.measure.name))
    .map(
      (m): Metric => ({
        name: m.measure.name,
        description: m.description,
        owner: 'dbt',
        status: 'PUBLISHED',
        type: 'SIMPLE',
        measure: { model: m.model, measure: m.measure.name },
      }),
    );
  const savedQueries: SavedQuery[] = entries.filter((e) => e.kind === 'saved_query').flatMap((e) => importSavedQuery(node(e)) ?? []);
  const known = new Set([
    'semantic_model',
    'metric',
    'saved_query',
    'project_configuration',
    'version',
    'models',
    'sources',
    'seeds',
    'snapshots',
    'exposures',
    'macros',
    'data_tests',
    'unit_tests',
    'groups',
    'analyses',
    'semantic_models',
    'saved_queries',
  ]);
  for (const e of entries)
    if (!known.has(e.kind)) refusals.add(`${e.file}: ${e.at}`, 'IGNORED', `'${e.kind}' is not part of the semantic layer and is ignored`);

  problems.throwIfAny();
  const metrics = dropRefused([...defined, ...created], refusedMetrics, refusals);
  const catalog = buildCatalog({ models: withEntityJoins(imported.map((i) => i.model)), metrics, timeSpines, savedQueries });
  return { catalog, refused: refusals.problems };
}

/** Metrics reading a refused metric, at any depth, are refused too. */
function dropRefused(metrics: readonly Metric[], refused: Set<string>, refusals: ProblemCollector): Metric[] {
  let changed = true;
  while (changed) {
    changed = false;
    for (const metric of metrics) {
      const input = inputMetrics(metric).find((n) => refused.has(n));
      if (refused.has(metric.name) || !input) continue;
      refused.add(metric.name);
      refusals.add(`metrics.${metric.name}`, 'REFUSED', `reads refused metric '${input}'`);
      changed = true;
    }
  }
  return metrics.filter((m) => !refused.has(m.name));
}
