import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import type { TagSubject } from '../modeling/tags/tag-subject.ts';
import { tagDependencies } from '../modeling/tags/check-tag.ts';
import { leaves, type Rule } from '../modeling/conditions/rule.ts';
import { loadTagRegistry, type TagRegistry } from './tag-registry.ts';
import { unlimitedLane, type AnalyticsLane } from './analytics-lane.ts';

const FRESH_MS = 5_000;

/**
 * What the tag and audience services share: the subject model, the code-defined tags and
 * a registry cache (reloaded after 5 s, or at once after a change made by this process).
 */
export interface TagRuntime {
  readonly db: Kysely<DatabaseSchema>;
  readonly subject: TagSubject;
  readonly codeTags: readonly TagDefinition[];
  /** Where previews, audience counts and pages, insight and materialization run (capped by the server). */
  readonly analytics: AnalyticsLane;
  registry(): Promise<TagRegistry>;
  invalidate(): void;
}

export function createTagRuntime(
  db: Kysely<DatabaseSchema>,
  subject: TagSubject,
  codeTags: readonly TagDefinition[],
  analytics: AnalyticsLane = unlimitedLane(db),
): TagRuntime {
  let cached: { registry: Promise<TagRegistry>; at: number } | undefined;
  return {
    db,
    subject,
    codeTags,
    analytics,
    registry() {
      if (!cached || Date.now() - cached.at > FRESH_MS) {
        const registry = loadTagRegistry(db, codeTags);
        cached = { registry, at: Date.now() };
        registry.catch(() => (cached = undefined));
      }
      return cached.registry;
    },
    invalidate() {
      cached = undefined;
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
