import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import type { TagSubject } from '../modeling/tags/tag-subject.ts';
import { tagDependencies } from '../modeling/tags/check-tag.ts';
import { leaves, type Rule } from '../modeling/conditions/rule.ts';
import { loadTagRegistry, type TagRegistry } from './tag-registry.ts';
import { unlimitedLane, type AnalyticsLane } from './analytics-lane.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import { DEFINITIONS_CHANNEL } from '../store/definition-store.ts';

/** How long a cached registry is trusted without a change feed, or while the feed is down (the polling fallback). */
const UNSYNCED_FRESH_MS = 2_000;

/**
 * What the tag and audience services share: the subject model, the code-defined tags and
 * a registry cache. With a change feed (`changes`, the server's) the cache holds until a
 * tag changes anywhere: every instance hears the change's `strata_definitions`
 * notification, and before serving from the cache it syncs with the feed (one round trip
 * shared by concurrent requests), so a tag published on one instance is served by the next
 * request on any other. While the feed is down, or without one (CLI commands), the cache is
 * reloaded every 2 s instead; a change made by this process drops it at once (`invalidate`).
 */
export interface TagRuntime {
  readonly db: Kysely<DatabaseSchema>;
  readonly subject: TagSubject;
  readonly codeTags: readonly TagDefinition[];
  /** Where previews, audience counts and pages, insight and materialization run (capped by the server). */
  readonly analytics: AnalyticsLane;
  registry(): Promise<TagRegistry>;
  invalidate(): void;
  /** Stops listening to the change feed. */
  close(): void;
}

export function createTagRuntime(
  db: Kysely<DatabaseSchema>,
  subject: TagSubject,
  codeTags: readonly TagDefinition[],
  analytics: AnalyticsLane = unlimitedLane(db),
  changes?: ChangeFeed,
): TagRuntime {
  let cached: { registry: Promise<TagRegistry>; at: number } | undefined;
  const unsubscribe = changes?.subscribe(DEFINITIONS_CHANNEL, (payload) => {
    if (payload === null || payload.startsWith('tag:')) cached = undefined;
  });
  const load = () => {
    const entry = { registry: loadTagRegistry(db, codeTags), at: Date.now() };
    cached = entry;
    entry.registry.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return entry.registry;
  };
  return {
    db,
    subject,
    codeTags,
    analytics,
    async registry() {
      const entry = cached;
      if (!entry) return load();
      // With a live feed, every change committed before this request has been heard once the sync answers.
      if (changes?.live && (await changes.sync()) && cached === entry) return entry.registry;
      if (cached && cached !== entry) return cached.registry;
      return Date.now() - entry.at <= UNSYNCED_FRESH_MS ? entry.registry : load();
    },
    invalidate() {
      cached = undefined;
    },
    close() {
      unsubscribe?.();
    },
  };
}

/** The live tags a set of rules reads, with everything they read in turn. */
export function tagClosure(live: ReadonlyMap<string, TagDefinition>, rules: readonly Rule[], seed: readonly TagDefinition[] = []): TagDefinition[] {
  const wanted = new Map<string, TagDefinition>();
  const visit = (key: string) => {
    const tag = live.get(key);
    if (!tag || wanted.has(key)) return;
    wanted.set(key, tag);
    tagDependencies(tag).forEach(visit);
  };
  for (const leaf of rules.flatMap(leaves)) if (leaf.kind === 'tag') visit(leaf.tag);
  for (const tag of seed) tagDependencies(tag).forEach(visit);
  return [...wanted.values()];
}
