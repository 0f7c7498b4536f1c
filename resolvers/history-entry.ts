import { builder } from './builder.ts';
import type { HistoryEntry } from '../store/definition-store.ts';

/**
 * The GraphQL type of one entry of a curated definition's history (tags, decision
 * definitions: the same store, the same shape), under the name each area's API gives it.
 */
export function historyEntryType(name: string) {
  return builder.objectRef<HistoryEntry>(name).implement({
    fields: (t) => ({
      version: t.exposeInt('version'),
      status: t.string({ resolve: (h) => h.status }),
      actor: t.exposeString('actor'),
      action: t.exposeString('action'),
      at: t.string({ resolve: (h) => new Date(h.at).toISOString() }),
      diff: t.field({ type: 'JSON', description: 'Changed fields: [{ path, from, to }].', resolve: (h) => h.diff }),
      reason: t.string({ nullable: true, resolve: (h) => h.reason }),
    }),
  });
}
