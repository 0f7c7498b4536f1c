import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, type Database } from '../store/database.ts';
import { createApiKey, revokeApiKey } from '../store/api-keys.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import { requestScopedChanges } from '../api/request-changes.ts';
import { createKeyLookup } from '../api/key-lookup.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';

/**
 * Bounded propagation of changes (api/request-changes.ts): a key revoked through an instance
 * is refused by that instance at once, whatever the bound; one revoked elsewhere is refused by
 * every lookup made the bound after the revocation committed; while the feed has synced within
 * the bound, lookups cost no round trip; with a bound of 0 every lookup waits for one.
 */
await describeEachEngine('change propagation on %s', (engine) => {
  let database: TestDatabase;
  /** Another instance: a second handle with its own LISTEN connection on PostgreSQL. */
  let other: Database;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    other = engine === 'postgres' ? await openDatabase({ databaseUrl: database.url, poolSize: 1 }) : database;
  });
  afterAll(async () => {
    if (other !== database) await other?.close();
    await database?.dispose();
  });

  /** The feed, counting the syncs that reach it. */
  const counted = (feed: ChangeFeed) => {
    const counter = { syncs: 0 };
    const view: ChangeFeed = {
      subscribe: (channel, listener) => feed.subscribe(channel, listener),
      notify: (trx, channel, payload) => feed.notify(trx, channel, payload),
      get live() {
        return feed.live;
      },
      sync: (since) => {
        counter.syncs += 1;
        return feed.sync(since);
      },
      close: () => feed.close(),
    };
    return { view, counter };
  };

  it('refuses a key revoked through the same instance at once, even with a long bound', async () => {
    const lookup = createKeyLookup(database, requestScopedChanges(database.changes, 60_000));
    await vi.waitFor(() => expect(database.changes.live).toBe(true), { timeout: 15_000 });
    const token = await createApiKey(database.db, 'propagation-here', 'app', { changes: database.changes });
    expect((await lookup.find(token))?.name).toBe('propagation-here');
    expect((await revokeApiKey(database.db, database.changes, 'propagation-here')).revoked).toBe(true);
    expect(await lookup.find(token)).toBeNull();
    lookup.close();
  });

  it('refuses a key revoked on another instance on lookups made the bound after the commit', async () => {
    const bound = 50;
    const lookup = createKeyLookup(other, requestScopedChanges(other.changes, bound));
    await vi.waitFor(() => expect(other.changes.live).toBe(true), { timeout: 15_000 });
    const token = await createApiKey(database.db, 'propagation-there', 'app', { changes: database.changes });
    expect((await lookup.find(token))?.name).toBe('propagation-there');
    // Cached on the other instance: a lookup now is answered from its cache.
    expect((await lookup.find(token))?.name).toBe('propagation-there');
    expect((await revokeApiKey(database.db, database.changes, 'propagation-there')).revoked).toBe(true);
    await sleep(bound + 10);
    expect(await lookup.find(token)).toBeNull();
    lookup.close();
  });

  it('answers without a round trip while the feed synced within the bound; with a bound of 0 every call has one', async () => {
    await vi.waitFor(() => expect(other.changes.live).toBe(true), { timeout: 15_000 });
    const bounded = counted(other.changes);
    const changes = requestScopedChanges(bounded.view, 60_000);
    expect(await changes.sync()).toBe(true);
    const after = bounded.counter.syncs;
    for (let i = 0; i < 5; i++) expect(await changes.sync()).toBe(true);
    expect(bounded.counter.syncs).toBe(after);

    const strict = counted(other.changes);
    const every = requestScopedChanges(strict.view, 0);
    for (let i = 0; i < 3; i++) expect(await every.sync()).toBe(true);
    expect(strict.counter.syncs).toBe(3);
  });

  it('answers false while the feed is not live, so caches ask the database', async () => {
    const down: ChangeFeed = {
      live: false,
      sync: async () => false,
      subscribe: () => () => undefined,
      notify: async () => undefined,
      close: async () => undefined,
    };
    expect(await requestScopedChanges(down, 100).sync()).toBe(false);
  });
});
