import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { parse } from 'yaml';
import type { ProblemCollector } from '../catalog/validation-error.ts';
import { YamlFiles } from './yaml-files.ts';

/** The configurations of a dbt model Strata reads: where it is built, its group and meta. */
export interface ModelConfig {
  readonly schema?: string;
  readonly alias?: string;
  readonly group?: string;
  readonly enabled?: boolean;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** A dbt model of the project (a `.sql`/`.py` file or a `models:` entry), with its resolved configuration. */
export interface DbtModel {
  readonly name: string;
  readonly config: ModelConfig;
  /** The model's `time_spine:` block and its columns' granularities (dbt 1.9), when present. */
  readonly timeSpine?: { readonly at: string; readonly value: Record<string, unknown> };
  readonly columns: readonly { readonly name: string; readonly granularity?: string }[];
  /** Where it is declared, for messages. */
  readonly at: string;
}

/** What `dbt_project.yml` and the model files say, as far as the semantic layer needs it. */
export interface DbtProjectFile {
  readonly name?: string;
  /** Folders (relative to the project root) holding models and their YAML. */
  readonly modelPaths: readonly string[];
  readonly models: ReadonlyMap<string, DbtModel>;
  /**
   * The configuration `dbt_project.yml` gives a semantic-layer definition (its
   * `semantic-models:`, `metrics:` or `saved-queries:` block: `+enabled`, `+group`, `+meta`),
   * by the definition's kind, the YAML file holding it (relative to the root) and its name.
   */
  readonly definitionConfig: (kind: string, file: string, name: string) => ModelConfig;
  /** Declarations in model YAML that Strata does not read yet, with where they are. */
  readonly unread: readonly { readonly at: string; readonly message: string }[];
}

const RESOURCE_KEYS: Readonly<Record<string, string>> = { semantic_model: 'semantic-models', metric: 'metrics', saved_query: 'saved-queries' };

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function pick(source: Record<string, unknown>, plus: boolean): ModelConfig {
  const get = (key: string) => (plus ? source[`+${key}`] : (source[`+${key}`] ?? source[key]));
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const schema = text(get('schema'));
  const alias = text(get('alias'));
  const group = text(get('group'));
  const enabled = get('enabled');
  const meta = record(get('meta'));
  return {
    ...(schema ? { schema } : {}),
    ...(alias ? { alias } : {}),
    ...(group ? { group } : {}),
    ...(typeof enabled === 'boolean' ? { enabled } : {}),
    ...(meta ? { meta } : {}),
  };
}

function overlay(base: ModelConfig, over: ModelConfig): ModelConfig {
  return { ...base, ...over, ...(base.meta || over.meta ? { meta: { ...base.meta, ...over.meta } } : {}) };
}

/**
 * The configuration `dbt_project.yml` gives a model at `steps` (project name, folders, model
 * name): each level's `+schema`, `+alias`, ... overlays the outer ones, as dbt applies them.
 */
function projectConfig(tree: Record<string, unknown> | undefined, steps: readonly string[]): ModelConfig {
  let config: ModelConfig = {};
  let node = tree;
  for (const step of steps) {
    node = record(node?.[step]);
    if (!node) break;
    config = overlay(config, pick(node, false));
  }
  return config;
}

/** `{{ config(schema='x', alias="y", enabled=false) }}` at the top of a SQL model. */
function sqlConfig(text: string): ModelConfig {
  const block = /\{\{\s*config\s*\(([\s\S]*?)\)\s*\}\}/.exec(text)?.[1];
  if (!block) return {};
  const value = (key: string) => new RegExp(`\\b${key}\\s*=\\s*(?:'([^']*)'|"([^"]*)"|(true|false|True|False))`).exec(block);
  const out: Record<string, unknown> = {};
  for (const key of ['schema', 'alias', 'group']) {
    const m = value(key);
    if (m) out[key] = m[1] ?? m[2];
  }
  const enabled = value('enabled');
  if (enabled?.[3]) out.enabled = enabled[3].toLowerCase() === 'true';
  return pick(out, false);
}

function files(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory())
        return name.startsWith('.') || name === 'node_modules' || name === 'target' || name === 'dbt_packages' ? [] : files(path, pattern);
      return pattern.test(name) ? [path] : [];
    });
}

/**
 * Reads `dbt_project.yml` (project name, `model-paths`, `models:` configurations) and the
 * models of the project: SQL and Python files (with their `{{ config(...) }}`) and `models:`
 * entries of the YAML files (their `config:`, `time_spine:` and `columns`). dbt's precedence
 * holds: a file's own `config()` over its YAML `config:` over `dbt_project.yml`. Without a
 * `dbt_project.yml`, `root` itself is the one model path.
 *
 * ```ts
 * const project = readDbtProjectFile('./jaffle-shop', problems);
 * ```
 */
export function readDbtProjectFile(root: string, problems: ProblemCollector, yaml = new YamlFiles()): DbtProjectFile {
  const projectPath = join(root, 'dbt_project.yml');
  let file: Record<string, unknown> = {};
  if (existsSync(projectPath)) {
    try {
      file = record(parse(readFileSync(projectPath, 'utf8'))) ?? {};
    } catch (error) {
      problems.add('dbt_project.yml', 'YAML_SYNTAX', (error as Error).message);
    }
  }
  const name = typeof file.name === 'string' ? file.name : undefined;
  const declared = file['model-paths'] ?? file['source-paths'];
  const modelPaths =
    Array.isArray(declared) && declared.every((p) => typeof p === 'string') ? (declared as string[]) : existsSync(projectPath) ? ['models'] : ['.'];
  const tree = record(file.models);
  const stepsOf = (path: string, model: string) => {
    const folders = dirname(relative(root, path))
      .split(sep)
      .filter((s) => s && s !== '.');
    // Model paths are not steps of the configuration tree: `models/staging/x.sql` is `project.staging.x`.
    const inside = modelPaths.map((p) => p.split('/').filter((s) => s && s !== '.')).find((p) => p.every((s, i) => folders[i] === s));
    return [name ?? '', ...folders.slice(inside?.length ?? 0), model];
  };
  interface Parts {
    project: ModelConfig;
    sql: ModelConfig;
    yaml: ModelConfig;
    timeSpine?: DbtModel['timeSpine'];
    columns: DbtModel['columns'];
    at: string;
  }
  const parts = new Map<string, Parts>();
  const unread: { at: string; message: string }[] = [];
  for (const modelPath of modelPaths) {
    for (const path of files(join(root, modelPath), /\.(sql|py)$/i)) {
      const model = basename(path).replace(/\.(sql|py)$/i, '');
      const sql = /\.sql$/i.test(path) ? sqlConfig(readFileSync(path, 'utf8')) : {};
      parts.set(model, { project: projectConfig(tree, stepsOf(path, model)), sql, yaml: {}, columns: [], at: relative(root, path) });
    }
  }
  for (const modelPath of modelPaths) {
    for (const path of files(join(root, modelPath), /\.ya?ml$/i)) {
      // Syntax errors are reported with their file when the semantic-layer entries are read.
      const entries = yaml.documents(path).flatMap((doc) => {
        const models = record(doc.value)?.models;
        return Array.isArray(models) ? models : [];
      });
      entries.forEach((entry, i) => {
        const e = record(entry);
        const model = typeof e?.name === 'string' ? e.name : undefined;
        if (!e || !model) return;
        const columns = (Array.isArray(e.columns) ? e.columns : []).flatMap((c) => {
          const col = record(c);
          const colName = typeof col?.name === 'string' ? col.name : undefined;
          const granularity = col?.granularity ?? record(col?.config)?.granularity;
          return colName ? [{ name: colName, ...(typeof granularity === 'string' ? { granularity } : {}) }] : [];
        });
        const spine = record(e.time_spine);
        const at = `${relative(root, path)}: models[${i}]`;
        for (const key of ['semantic_model', 'agg_time_dimension', 'derived_semantics'])
          if (e[key] !== undefined && e[key] !== null)
            unread.push({
              at: `${at}.${key}`,
              message: `'${key}' on a model (dbt's newer semantic-layer spec) is not read yet; declare semantic_models: beside it`,
            });
        const previous = parts.get(model);
        parts.set(model, {
          project: previous?.project ?? projectConfig(tree, stepsOf(path, model)),
          sql: previous?.sql ?? {},
          yaml: overlay(pick({ meta: e.meta, group: e.group }, false), pick(record(e.config) ?? {}, false)),
          ...(spine ? { timeSpine: { at: `${at}.time_spine`, value: spine } } : {}),
          columns,
          at: previous?.at ?? at,
        });
      });
    }
  }
  const models = new Map<string, DbtModel>();
  for (const [model, p] of parts) {
    models.set(model, {
      name: model,
      config: overlay(overlay(p.project, p.yaml), p.sql),
      ...(p.timeSpine ? { timeSpine: p.timeSpine } : {}),
      columns: p.columns,
      at: p.at,
    });
  }
  const definitionConfig = (kind: string, yamlFile: string, definition: string): ModelConfig => {
    const resource = RESOURCE_KEYS[kind];
    const resourceTree = resource ? record(file[resource]) : undefined;
    return resourceTree ? projectConfig(resourceTree, stepsOf(join(root, yamlFile), definition)) : {};
  };
  return { ...(name ? { name } : {}), modelPaths, models, definitionConfig, unread };
}
