import { existsSync, readFileSync } from 'node:fs';
import { defineTag, type TagSpec } from './define-tag.ts';
import type { TagDefinition } from './tag-definition.ts';

/**
 * Reads a committed definitions file (a JSON array of tag specs, as `strata tags export`
 * writes it) as code-defined tags; a missing file means none. A malformed file stops the
 * server at start-up with the file and the bad entry named.
 */
export function loadTagDefinitionsFile(file: URL | string): TagDefinition[] {
  if (!existsSync(file)) return [];
  const specs = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(specs)) throw new Error(`${String(file)}: expected a JSON array of tag definitions`);
  return specs.map((spec, i) => {
    try {
      return defineTag(spec as TagSpec, 'code');
    } catch (error) {
      throw new Error(`${String(file)}: entry ${i}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}
