import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ProblemCollector } from '../catalog/validation-error.ts';

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
 * const entries = readProject('./my-dbt-project/models', problems);
 * ```
 */
export function readProject(dir: string, problems: ProblemCollector): ProjectEntry[] {
  const entries: ProjectEntry[] = [];
  for (const path of yamlFiles(dir)) {
    const file = relative(dir, path);
    const docs = parseAllDocuments(readFileSync(path, 'utf8'));
    docs.forEach((doc, d) => {
      const prefix = docs.length > 1 ? `document[${d}]` : '';
      for (const error of doc.errors) problems.add(`${file}: ${prefix}`, 'YAML_SYNTAX', error.message);
      const value: unknown = doc.toJS();
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
