import type { Catalog } from '../../modeling/catalog/types.ts';
import type { TagDefinition } from '../../modeling/tags/tag-definition.ts';
import { wealthCatalog } from './catalog.ts';
import { wealthTags } from './tags.ts';

/** The bundled domain as the server loads it: its catalog, its code-defined tags and their subject model. */
export interface Domain {
  readonly catalog: Catalog;
  readonly tags: readonly TagDefinition[];
  /** The model tags describe, one row per customer. */
  readonly tagSubject: string;
}

export function wealthDomain(): Domain {
  return { catalog: wealthCatalog(), tags: wealthTags, tagSubject: 'customer' };
}
