import DataLoader from 'dataloader';
import { sql } from 'kysely';
import type { Database } from '../store/database.ts';
import type { PersonalDataLog } from '../store/personal-data-log.ts';
import { clears } from '../modeling/catalog/sensitivity.ts';
import { tagSensitivity } from '../modeling/tags/rule-members.ts';
import type { ProfileRow } from './snapshot.ts';
import { sharedProfileReads, sharedProfileWithCountsReads } from './profile-reads.ts';
import { readImpressionCounts } from '../store/decision-store.ts';
import type { TagRuntime } from './tag-runtime.ts';
import type { TagRegistry } from './tag-registry.ts';
import type { Viewer } from './access.ts';
import { scopedKeysSql } from './scope-sql.ts';

/** A customer's personalization fields: published tag values and audience keys. */
export interface Profile {
  readonly id: string;
  /** `masked`: the tag is more sensitive than the caller's clearance, so its value is withheld (null). */
  readonly tags: readonly { readonly key: string; readonly value: unknown; readonly masked: boolean }[];
  readonly audiences: readonly string[];
}

/** A customer's impression counters, as fatigue reads them (store/decision-store.ts). */
type Counters = Awaited<ReturnType<typeof readImpressionCounts>>;

/**
 * The profiles of one request: a DataLoader (`load`, `loadMany`) plus `loadWithCounts`, the
 * read of `decide`: one customer's profile and their impression counters in one statement.
 */
export interface ProfileLoader extends DataLoader<string, Profile | null> {
  /**
   * The customer's profile, exactly as `load` answers it (scoped, masked, recorded in the
   * read log), with their impression counters from `since` (a reporting-zone day): one
   * statement on the primary, so a decision costs one round trip for both, shared with the
   * decisions of other requests in the same turn (services/profile-reads.ts). A caller with a
   * row scope, or a customer this loader has already read, gets `load` and the counter probe.
   */
  loadWithCounts(customerId: string, since: string): Promise<readonly [Profile | null, Counters]>;
}

/**
 * A per-request loader: every `customer(id)` of one request is answered by one query
 * against the current snapshot (shared with the reads of other requests of the same turn of
 * the event loop, services/profile-reads.ts, unless the caller has a row scope); ids without a profile (or outside the caller's scope)
 * resolve to null. Only tags that are live now are shown (published, or deprecated until
 * archived), and a tag above the caller's clearance is masked. Every profile returned is
 * recorded in the personal-data read log under `operation`.
 */
export function createProfileLoader(
  database: Pick<Database, 'preparedRead' | 'prepared' | 'db'>,
  tags: TagRuntime,
  viewer: Viewer,
  log: PersonalDataLog,
  operation = 'customer',
): ProfileLoader {
  const shape = (registry: TagRegistry, ids: readonly string[], rows: readonly ProfileRow[]): (Profile | null)[] => {
    const shown = visibleTags(registry, tags, viewer);
    // One id (every `customer(id)`): its row, if any, is the only one; no map of the rows.
    const only = ids.length === 1 && rows.length <= 1 ? rows[0] : undefined;
    const byId = ids.length === 1 && rows.length <= 1 ? undefined : new Map(rows.map((row) => [row.customer_id, row]));
    const profiles: (Profile | null)[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i += 1) {
      const id = ids[i] as string;
      const row = byId ? byId.get(id) : only?.customer_id === id ? only : undefined;
      profiles[i] = row ? { id, tags: shownTags(shown, row.tags), audiences: row.audiences } : null;
    }
    log.record(
      viewer.principal.name,
      operation,
      rows.map((r) => r.customer_id),
    );
    return profiles;
  };
  const loader = new DataLoader<string, Profile | null>(
    async (ids) => {
      const registry = await tags.registry();
      const rows = viewer.principal.scope ? await readScopedProfiles(database, tags, registry, viewer, ids) : await sharedProfileReads(database).read(ids);
      return shape(registry, ids, rows);
    },
    { maxBatchSize: 1000 },
  ) as ProfileLoader;
  const read = new Set<string>();
  const load = loader.load.bind(loader);
  loader.load = (id) => {
    read.add(id);
    return load(id);
  };
  loader.loadWithCounts = async (id, since) => {
    if (viewer.principal.scope || read.has(id)) return Promise.all([loader.load(id), readImpressionCounts(database, id, since)]);
    read.add(id);
    const [registry, [row]] = await Promise.all([tags.registry(), sharedProfileWithCountsReads(database).read([{ id, since }])]);
    const [profile = null] = shape(registry, [id], row?.tags ? [row as ProfileRow] : []);
    loader.prime(id, profile);
    return [profile, row?.counts ?? []];
  };
  return loader;
}

/** Profile rows of customers inside the caller's scope only. */
async function readScopedProfiles(
  database: Pick<Database, 'db'>,
  tags: TagRuntime,
  registry: TagRegistry,
  viewer: Viewer,
  ids: readonly string[],
): Promise<ProfileRow[]> {
  if (ids.length === 0) return [];
  const scoped = scopedKeysSql(tags.subject, registry.live, viewer.principal.scope);
  const { rows } = await sql<ProfileRow>`SELECT p.customer_id, p.tags, p.audiences FROM strata.current_profiles p
    WHERE p.customer_id = ANY(CAST(${[...ids]} AS text[]))
    AND p.customer_id IN (${scoped})`.execute(database.db);
  return rows;
}

/** The customer's values of the shown tags they have, in order, masked ones withheld. */
function shownTags(shown: readonly { key: string; masked: boolean }[], values: ProfileRow['tags']): Profile['tags'][number][] {
  const out: Profile['tags'][number][] = [];
  for (const { key, masked } of shown) {
    if (key in values) out.push({ key, value: masked ? null : (values[key] ?? null), masked });
  }
  return out;
}

const visible = new WeakMap<TagRegistry, Map<string, readonly { key: string; masked: boolean }[]>>();

/** The live tag keys in order, each masked or not for the caller's clearance; computed once per registry and clearance. */
function visibleTags(registry: TagRegistry, tags: TagRuntime, viewer: Viewer): readonly { key: string; masked: boolean }[] {
  let byClearance = visible.get(registry);
  if (!byClearance) visible.set(registry, (byClearance = new Map()));
  const clearance = viewer.principal.clearance;
  let shown = byClearance.get(clearance);
  if (!shown) {
    shown = [...registry.live.keys()].sort().map((key) => {
      const tag = registry.live.get(key);
      return { key, masked: tag !== undefined && !clears(clearance, tagSensitivity(tag, tags.subject, registry.live)) };
    });
    byClearance.set(clearance, shown);
  }
  return shown;
}
