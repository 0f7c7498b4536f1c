import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import { listDefinitions, type StoredDefinition } from '../store/definition-store.ts';
import type { DecisionDefinitions, DecisionKind, DecisionSpecs } from '../decisioning/definitions.ts';
import { logger } from '../store/logger.ts';

/** A decision definition as stored: its working spec and the spec last published, if any. */
export interface DecisionBody<K extends DecisionKind> {
  readonly spec: DecisionSpecs[K];
  readonly published: { readonly version: number; readonly spec: DecisionSpecs[K] } | null;
}

export type StoredDecision<K extends DecisionKind> = StoredDefinition<DecisionBody<K>>;

/** Every definition of the decision layer as it stands, by kind (drafts included). */
export interface DecisionRegistry {
  readonly stored: { readonly [K in DecisionKind]: readonly StoredDecision<K>[] };
  /** The published spec of every definition that is not retired: what `decide` serves. */
  readonly live: DecisionDefinitions;
  /** The working spec of every definition that is not retired (drafts included): what a draft may name. */
  readonly current: DecisionDefinitions;
}

/** The change channel every instance listens to: a definition of the decision layer changed. */
export const DECISIONS_CHANNEL = 'strata_decisions';

const isLive = (d: StoredDefinition<DecisionBody<DecisionKind>>) => d.body.published !== null && d.status !== 'RETIRED';

/** Reads every decision definition (four statements on one connection). */
export async function loadDecisionRegistry(db: Kysely<DatabaseSchema>): Promise<DecisionRegistry> {
  const placement = await listDefinitions<DecisionBody<'placement'>>(db, 'placement');
  const content = await listDefinitions<DecisionBody<'content'>>(db, 'content');
  const strategy = await listDefinitions<DecisionBody<'strategy'>>(db, 'strategy');
  const experiment = await listDefinitions<DecisionBody<'experiment'>>(db, 'experiment');
  const published = <K extends DecisionKind>(all: readonly StoredDecision<K>[]) =>
    all.filter(isLive).map((d) => (d.body.published as { spec: DecisionSpecs[K] }).spec);
  const working = <K extends DecisionKind>(all: readonly StoredDecision<K>[]) => all.filter((d) => d.status !== 'RETIRED').map((d) => d.body.spec);
  return {
    stored: { placement, content, strategy, experiment },
    current: { placements: working(placement), contents: working(content), strategies: working(strategy), experiments: working(experiment) },
    live: { placements: published(placement), contents: published(content), strategies: published(strategy), experiments: published(experiment) },
  };
}

/** How long a cached registry is trusted while change notifications cannot be relied on. */
const UNSYNCED_FRESH_MS = 2_000;

/**
 * The decision definitions cached in this process, compiled by `compile`, dropped when any
 * instance changes a definition: a NOTIFY on `strata_decisions` on PostgreSQL (every server
 * LISTENs through `database.changes`), the in-process feed on PGlite, where the one process
 * owning the data sees every change. While the PostgreSQL feed is down the cache is reloaded
 * every 2 s instead.
 */
export interface DecisionCache<M> {
  current(): Promise<{ registry: DecisionRegistry; model: M }>;
  invalidate(): void;
  close(): void;
}

export function createDecisionCache<M>(db: Kysely<DatabaseSchema>, changes: ChangeFeed, compile: (registry: DecisionRegistry) => M): DecisionCache<M> {
  let cached: { value: Promise<{ registry: DecisionRegistry; model: M }>; at: number } | undefined;
  const unsubscribe = changes.subscribe(DECISIONS_CHANNEL, () => {
    cached = undefined;
  });
  return {
    current() {
      if (!cached || (!changes.live && Date.now() - cached.at > UNSYNCED_FRESH_MS)) {
        const value = loadDecisionRegistry(db).then((registry) => ({ registry, model: compile(registry) }));
        const entry = { value, at: Date.now() };
        cached = entry;
        value.catch((error: unknown) => {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'decision definitions failed to load');
          if (cached === entry) cached = undefined;
        });
      }
      return cached.value;
    },
    invalidate() {
      cached = undefined;
    },
    close: unsubscribe,
  };
}
