import DataLoader from 'dataloader';
import type { Database } from '../store/database.ts';
import { readProfiles } from './snapshot.ts';
import type { TagRuntime } from './tag-runtime.ts';
import type { TagRegistry } from './tag-registry.ts';

/** A customer's personalization fields: published tag values and audience keys. */
export interface Profile {
  readonly id: string;
  readonly tags: readonly { readonly key: string; readonly value: unknown }[];
  readonly audiences: readonly string[];
}

/**
 * A per-request loader: every `customer(id)` of one request is answered by one query
 * against the current snapshot; ids without a profile resolve to null. Only tags that are
 * live now are shown: published, or deprecated (still served until archived).
 */
export function createProfileLoader(database: Pick<Database, 'prepared'>, tags: TagRuntime): DataLoader<string, Profile | null> {
  return new DataLoader<string, Profile | null>(async (ids) => {
    const [rows, registry] = await Promise.all([readProfiles(database, ids), tags.registry()]);
    const byId = new Map(rows.map((row) => [row.customer_id, row]));
    const published = liveKeys(registry);
    return ids.map((id) => {
      const row = byId.get(id);
      if (!row) return null;
      return { id, tags: published.filter((k) => k in row.tags).map((key) => ({ key, value: row.tags[key] ?? null })), audiences: row.audiences };
    });
  }, { maxBatchSize: 1000 });
}

const sortedKeys = new WeakMap<TagRegistry, readonly string[]>();

/** The live tag keys in order, computed once per registry (it is reused until reloaded). */
function liveKeys(registry: TagRegistry): readonly string[] {
  let keys = sortedKeys.get(registry);
  if (!keys) {
    keys = [...registry.live.keys()].sort();
    sortedKeys.set(registry, keys);
  }
  return keys;
}
