import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

/** One YAML document of a file: its value and its syntax errors. */
export interface YamlDocument {
  readonly value: unknown;
  readonly errors: readonly string[];
}

/**
 * The YAML files of one import, each read and parsed once: `dbt_project.yml`'s model
 * configurations and the semantic-layer entries are read from the same files.
 */
export class YamlFiles {
  private readonly parsed = new Map<string, readonly YamlDocument[]>();

  documents(path: string): readonly YamlDocument[] {
    let docs = this.parsed.get(path);
    if (!docs) {
      docs = parseAllDocuments(readFileSync(path, 'utf8')).map((doc) => ({ value: doc.toJS() as unknown, errors: doc.errors.map((e) => e.message) }));
      this.parsed.set(path, docs);
    }
    return docs;
  }
}
