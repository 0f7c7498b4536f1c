import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog, Measure, Metric, SavedQuery, TimeSpine } from '../catalog/types.ts';
import { buildCatalog } from '../catalog/build-catalog.ts';
import { inputMetrics } from '../catalog/lineage.ts';
import { CatalogValidationError, ProblemCollector, type Problem } from '../catalog/validation-error.ts';
import { readManifest, readProject, type ProjectEntry } from './read-project.ts';
import { YamlNode } from './yaml-node.ts';
import { importSemanticModel, type ImportedMeasure } from './import-semantic-model.ts';
import { importMetric } from './import-metric.ts';
import { importSavedQuery, importTimeSpines, modelTimeSpines } from './import-project-config.ts';
import { withEntityJoins } from './entity-joins.ts';
import { readDbtProjectFile, type DbtProjectFile } from './dbt-project.ts';
import { RelationResolver } from './relations.ts';
import { YamlFiles } from './yaml-files.ts';
import { reportUnread } from './unread-fields.ts';

export interface DbtImport {
  readonly catalog: Catalog;
  /** Definitions left out because Strata cannot serve them faithfully, each with its reason. */
  readonly refused: readonly Problem[];
  /**
   * What is served differently from what it asks (an approximate percentile served exact), or
   * accepted and not read (exports, fields and files outside the semantic layer), with the reason.
   */
  readonly notes: readonly Problem[];
  /** `project`: YAML as its authors write it (with or without dbt_project.yml); `manifest`: dbt's compiled semantic_manifest.json. */
  readonly format: 'project' | 'manifest';
  /** The project name of `dbt_project.yml`, when there is one. */
  readonly projectName?: string;
}

export interface DbtImportOptions {
  /** The schema models are built in (`STRATA_DBT_SCHEMA`): `ref()` without a configured schema, and `$source_schema`. */
  readonly schema: string;
}

const IGNORED_KINDS = new Set([
  'version',
  'models',
  'sources',
  'seeds',
  'snapshots',
  'exposures',
  'macros',
  'data_tests',
  'unit_tests',
  'analyses',
  'semantic_models',
  'saved_queries',
  'metrics',
]);

/** Which input `path` is: dbt's compiled manifest (a `.json` file), else a project folder. */
function inputOf(path: string): 'manifest' | 'project' {
  return existsSync(path) && statSync(path).isFile() && /\.json$/i.test(path) ? 'manifest' : 'project';
}

/**
 * Reads a dbt semantic-layer project into a validated, immutable catalog: a project folder
 * as its authors write it (`dbt_project.yml` with its model paths and `+schema`/`+alias`
 * configurations, `model: ref('...')`, `time_spine:` model configurations, `groups`,
 * `saved_queries`), a folder of MetricFlow YAML (`node_relation`), or dbt's compiled
 * `target/semantic_manifest.json`. Every problem, with its file and path, is reported at
 * once as a `CatalogValidationError`; definitions Strata refuses are listed in `refused`,
 * what it serves differently or does not read in `notes`.
 *
 * ```ts
 * const { catalog, refused, notes } = importDbtProject('./jaffle-shop', { schema: 'analytics' });
 * const compiled = importDbtProject('./jaffle-shop/target/semantic_manifest.json', { schema: 'analytics' });
 * ```
 */
export function importDbtProject(path: string, options: DbtImportOptions): DbtImport {
  const problems = new ProblemCollector();
  const refusals = new ProblemCollector();
  const notes = new ProblemCollector();
  const refuse = (at: YamlNode, message: string) => refusals.add(at.where, 'REFUSED', message);
  const note = (at: YamlNode | string, code: string, message: string) => notes.add(typeof at === 'string' ? at : at.where, code, message);
  const format = inputOf(path);
  let project: DbtProjectFile | undefined;
  let entries: ProjectEntry[];
  if (format === 'manifest') entries = readManifest(path, problems);
  else {
    const yaml = new YamlFiles();
    project = readDbtProjectFile(path, problems, yaml);
    const hasProjectFile = existsSync(join(path, 'dbt_project.yml'));
    entries = hasProjectFile
      ? project.modelPaths.flatMap((p) => (existsSync(join(path, p)) ? readProject(join(path, p), problems, path, yaml) : []))
      : readProject(path, problems, path, yaml);
  }
  const relations = new RelationResolver(options.schema, project, note);
  for (const u of project?.unread ?? []) note(u.at, 'NOT_READ', u.message);
  // `dbt_project.yml`'s `semantic-models:`, `metrics:` and `saved-queries:` configurations
  // (`+enabled`, `+group`, `+meta`) under each definition's own `config:`.
  if (project)
    entries = entries.map((e) => {
      const value = e.value && typeof e.value === 'object' && !Array.isArray(e.value) ? (e.value as Record<string, unknown>) : undefined;
      const name = typeof value?.name === 'string' ? value.name : undefined;
      const inherited = value && name ? project?.definitionConfig(e.kind, e.file, name) : undefined;
      if (!value || !inherited || Object.keys(inherited).length === 0) return e;
      const own = value.config && typeof value.config === 'object' ? (value.config as Record<string, unknown>) : {};
      const ownMeta = own.meta && typeof own.meta === 'object' ? (own.meta as Record<string, unknown>) : {};
      const config = { ...inherited, ...own, ...(inherited.meta || own.meta ? { meta: { ...inherited.meta, ...ownMeta } } : {}) };
      return { ...e, value: { ...value, config } };
    });
  const node = (e: ProjectEntry) => new YamlNode(e.value, e.file, e.at, problems);

  const groups = new Map<string, string | undefined>();
  for (const e of entries.filter((x) => x.kind === 'groups')) {
    for (const g of node(e).list()) {
      const name = g.child('name').string(true);
      const owner = g.child('owner').child('name').string() ?? g.child('owner').child('email').string();
      if (!owner) g.child('owner').problem('MISSING_FIELD', 'a group needs an owner with a name or an email');
      if (name) groups.set(name, owner);
    }
  }
  const ownerOf = (n: YamlNode): string => {
    const metaOwner = n.meta('owner').string();
    if (metaOwner) return metaOwner;
    const groupNode = n.child('config').child('group').present ? n.child('config').child('group') : n.child('group');
    const group = groupNode.string();
    if (group === undefined) return 'dbt';
    if (!groups.has(group)) return groupNode.problem('UNKNOWN_GROUP', `no group '${group}' is declared (top-level groups:)`) ?? 'dbt';
    return groups.get(group) ?? 'dbt';
  };
  const enabled = (e: ProjectEntry) => {
    const n = node(e);
    if (n.child('config').child('enabled').boolean() !== false) return true;
    note(n, 'DISABLED', `${e.kind} '${n.child('name').string() ?? '?'}' has enabled: false and is not served`);
    return false;
  };
  const live = entries.filter((e) => ['semantic_model', 'metric', 'saved_query'].includes(e.kind) && enabled(e));
  for (const e of live) reportUnread(node(e), e.kind, note);

  const imported = live.filter((e) => e.kind === 'semantic_model').flatMap((e) => importSemanticModel(node(e), { relations, note, ownerOf }) ?? []);
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
  const configured: TimeSpine[] = entries.filter((e) => e.kind === 'project_configuration').flatMap((e) => importTimeSpines(node(e), relations));
  const fromModels = project
    ? modelTimeSpines(project.models.values(), relations, (value, at) => new YamlNode(value, at.split(': ')[0] ?? at, at.split(': ')[1] ?? '', problems))
    : [];
  const timeSpines = [...configured, ...fromModels.filter((s) => !configured.some((c) => c.table === s.table))];
  const customGrains = new Set(timeSpines.flatMap((s) => s.customGranularities.map((c) => c.name)));
  const extraMeasures = new Map<string, Measure[]>();
  const addMeasure = (model: string, measure: Measure) => extraMeasures.set(model, [...(extraMeasures.get(model) ?? []), measure]);
  const refusedMetrics = new Set<string>();
  const defined = live
    .filter((e) => e.kind === 'metric')
    .flatMap((e) => {
      const metric = importMetric(node(e), { measures, customGrains, refuse, ownerOf, addMeasure });
      if (metric === 'refused') refusedMetrics.add(String((e.value as { name?: unknown }).name));
      return metric === 'refused' || !metric ? [] : [metric];
    });
  const created = [...measures.values()]
    .filter((m) => m.createMetric && !defined.some((d) => d.name === m.measure.name))
    .map(
      (m): Metric => ({
        name: m.measure.name,
        description: m.description,
        owner: imported.find((i) => i.model.name === m.model)?.model.owner ?? 'dbt',
        status: 'PUBLISHED',
        type: 'SIMPLE',
        measure: { model: m.model, measure: m.measure.name },
      }),
    );
  const savedQueries: SavedQuery[] = live.filter((e) => e.kind === 'saved_query').flatMap((e) => importSavedQuery(node(e), note) ?? []);
  const known = new Set(['semantic_model', 'metric', 'saved_query', 'project_configuration', 'groups']);
  for (const e of entries)
    if (IGNORED_KINDS.has(e.kind)) continue;
    else if (!known.has(e.kind)) note(`${e.file}: ${e.at}`, 'IGNORED', `'${e.kind}' is not part of the semantic layer and is ignored`);

  problems.throwIfAny();
  const models = imported.map((i) =>
    extraMeasures.has(i.model.name) ? { ...i.model, measures: [...i.model.measures, ...(extraMeasures.get(i.model.name) ?? [])] } : i.model,
  );
  const build = (metrics: readonly Metric[]) => buildCatalog({ models: withEntityJoins(models), metrics, timeSpines, savedQueries });
  const catalog = buildServingMetrics(build, dropRefused([...defined, ...created], refusedMetrics, refusals), refusedMetrics, refusals);
  return { catalog, refused: refusals.problems, notes: notes.problems, format, ...(project?.name ? { projectName: project.name } : {}) };
}

/**
 * The catalog of the project, without the metrics whose own definition the catalog refuses
 * (a filter naming a dimension no join reaches, say): one broken metric is listed in
 * `refused` with its reason, and the rest of the project is served, as are metrics that do
 * not read it. Problems anywhere else (models, saved queries) still refuse the project.
 */
function buildServingMetrics(
  build: (metrics: readonly Metric[]) => Catalog,
  metrics: readonly Metric[],
  refused: Set<string>,
  refusals: ProblemCollector,
): Catalog {
  let serving = metrics;
  for (;;) {
    try {
      return build(serving);
    } catch (error) {
      if (!(error instanceof CatalogValidationError)) throw error;
      const names = error.problems.map((p) => /^metrics\.([^.]+)(?:\.|$)/.exec(p.path)?.[1]);
      if (names.some((name) => name === undefined || !serving.some((m) => m.name === name))) throw error;
      error.problems.forEach((p, i) => {
        refused.add(names[i] as string);
        refusals.add(p.path, p.code, `${p.message}; the metric is not served`);
      });
      serving = dropRefused(serving, refused, refusals);
    }
  }
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
