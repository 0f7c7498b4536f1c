import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { ProblemCollector } from '../catalog/validation-error.ts';
import { YamlFiles } from './yaml-files.ts';

/** One top-level YAML entry of a project file (`semantic_model`, `metric`, `saved_query`, ...). */
export interface ProjectEntry {
  readonly kind: string;
  readonly value: unknown;
  /** File path relative to the project folder. */
  readonly file: string;
  /** Where the entry sits in its file, e.g. `metrics[3]` or `semantic_model`. */
  readonly at: string;
}

const LIST_KEYS: Readonly<Record<string, string>> = {
  semantic_models: 'semantic_model',
  metrics: 'metric',
  saved_queries: 'saved_query',
};

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name.startsWith('.') || name === 'node_modules' || name === 'target' ? [] : yamlFiles(path);
      return /\.ya?ml$/i.test(name) ? [path] : [];
    });
}

/**
 * Reads every YAML file under `dir` (multi-document files included) and lists the dbt
 * semantic-layer entries it holds: both dbt's list form (`semantic_models: [...]`) and
 * MetricFlow's one-entry documents (`semantic_model: {...}`).
 *
 * ```ts
 * const entries = readProject('./my-dbt-project/models', problems, './my-dbt-project');
 * ```
 */
export function readProject(dir: string, problems: ProblemCollector, root = dir, files = new YamlFiles()): ProjectEntry[] {
  const entries: ProjectEntry[] = [];
  for (const path of yamlFiles(dir)) {
    const file = relative(root, path);
    const docs = files.documents(path);
    docs.forEach((doc, d) => {
      const prefix = docs.length > 1 ? `document[${d}]` : '';
      for (const error of doc.errors) problems.add(`${file}: ${prefix}`, 'YAML_SYNTAX', error);
      const value = doc.value;
      if (!value || typeof value !== 'object' || Array.isArray(value)) return;
      for (const [key, body] of Object.entries(value as Record<string, unknown>)) {
        const at = (rest: string) => (prefix ? `${prefix}.${rest}` : rest);
        if (LIST_KEYS[key] && Array.isArray(body))
          body.forEach((item, i) => entries.push({ kind: LIST_KEYS[key] as string, value: item, file, at: at(`${key}[${i}]`) }));
        else entries.push({ kind: key, value: body, file, at: at(key) });
      }
    });
  }
  return entries;
}

/**
 * The entries of dbt's compiled `semantic_manifest.json` (`dbt parse` writes it to
 * `target/`): its `semantic_models`, `metrics`, `saved_queries` and `project_configuration`,
 * read as the YAML entries are (filters as `where_filters`, windows as `{ count, granularity }`
 * are understood where they are read).
 */
export function readManifest(path: string, problems: ProblemCollector): ProjectEntry[] {
  const file = basename(path);
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.add(file, 'JSON_SYNTAX', (error as Error).message);
    return [];
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) {
    problems.add(file, 'INVALID_TYPE', 'a semantic manifest is a JSON object with semantic_models, metrics, saved_queries and project_configuration');
    return [];
  }
  const entries: ProjectEntry[] = [];
  for (const [key, body] of Object.entries(manifest as Record<string, unknown>)) {
    if (LIST_KEYS[key] && Array.isArray(body))
      body.forEach((item, i) => entries.push({ kind: LIST_KEYS[key] as string, value: item, file, at: `${key}[${i}]` }));
    else if (key === 'project_configuration') entries.push({ kind: key, value: body, file, at: key });
  }
  return entries;
}
