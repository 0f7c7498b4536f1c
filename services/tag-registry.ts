import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { listDefinitions } from '../store/definition-store.ts';
import { defineTag, type TagSpec } from '../modeling/tags/define-tag.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import type { Status } from '../modeling/catalog/types.ts';

/** A steward-defined tag as stored: its working spec and the spec last published, if any. */
export interface StoredTagBody {
  readonly spec: TagSpec;
  readonly published: { readonly version: number; readonly spec: TagSpec } | null;
}

export interface TagRegistry {
  /** Every tag as it stands now (working copies of steward tags included), by key. */
  readonly current: ReadonlyMap<string, TagDefinition>;
  /** Tags consumers see: the published spec of each, PUBLISHED or DEPRECATED, by key. */
  readonly live: ReadonlyMap<string, TagDefinition>;
}

/** Code-defined tags plus every steward-defined tag in the database. */
export async function loadTagRegistry(db: Kysely<DatabaseSchema>, codeTags: readonly TagDefinition[]): Promise<TagRegistry> {
  const current = new Map(codeTags.map((t) => [t.key, t]));
  const live = new Map(codeTags.filter((t) => t.status === 'PUBLISHED' || t.status === 'DEPRECATED').map((t) => [t.key, t]));
  for (const stored of await listDefinitions<StoredTagBody>(db, 'tag')) {
    if (current.has(stored.key)) continue;
    current.set(
      stored.key,
      defineTag({ ...stored.body.spec, status: stored.status as Status, owner: stored.body.spec.owner ?? stored.updatedBy }, 'api', stored.version),
    );
    const published = stored.body.published;
    if (published && stored.status !== 'ARCHIVED') {
      const status: Status = stored.status === 'DEPRECATED' ? 'DEPRECATED' : 'PUBLISHED';
      live.set(stored.key, defineTag({ ...published.spec, status, owner: published.spec.owner ?? stored.updatedBy }, 'api', published.version));
    }
  }
  return { current, live };
}
