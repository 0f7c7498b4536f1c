import type { Catalog } from '../../modeling/catalog/types.ts';
import type { TagDefinition } from '../../modeling/tags/tag-definition.ts';
import { wealthCatalog } from './catalog.ts';
import { wealthTags } from './tags.ts';
import { loadTagDefinitionsFile } from '../../modeling/tags/tag-definitions-file.ts';
import { projectFile } from '../../store/project-files.ts';

/**
 * Steward-defined tags exported with `strata tags export` and committed beside the
 * code-defined ones; read from the source tree also when running compiled.
 */
export const STEWARD_TAGS_FILE = projectFile('domains/wealth/steward-tags.json');

/** The bundled domain as the server loads it: its catalog, its code-defined tags and their subject model. */
export interface Domain {
  readonly catalog: Catalog;
  readonly tags: readonly TagDefinition[];
  /** The model tags describe, one row per customer. */
  readonly tagSubject: string;
}

export function wealthDomain(): Domain {
  return { catalog: wealthCatalog(), tags: [...wealthTags, ...loadTagDefinitionsFile(STEWARD_TAGS_FILE)], tagSubject: 'customer' };
}
