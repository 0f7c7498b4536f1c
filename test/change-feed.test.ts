import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../store/database.ts';
import { createPostgresChangeFeed, listenerClient } from '../store/postgres-change-feed.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';

/**
 * The change feed (store/change-feed.ts): a notification sent in a transaction reaches this
 * process's listeners, and on PostgreSQL every other process's, when it commits; a rolled
 * back one reaches no other process; a listener hears `null` when it starts listening; after
 * `sync()` every change committed before it has arrived.
 */
await describeEachEngine('change feed on %s', (engine) => {
  let database: TestDatabase;
  /** Another process's view: a second handle with its own LISTEN connection on PostgreSQL. */
  let other: Database;

  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
    // A generous sync wait: on a loaded machine the round trip may take longer than the
    // default second, after which `sync` answers false (falls back) and the test would fail.
    other = engine === 'postgres' ? await openDatabase({ databaseUrl: database.url, poolSize: 1, changeFeed: { syncWaitMs: 15_000 } }) : database;
  });
  afterAll(async () => {
    if (other !== database) await other?.close();
    await database?.dispose();
  });

  it('delivers committed notifications to this process and to the other, in commit order, and no rolled-back one across processes', async () => {
    const here: (string | null)[] = [];
    const there: (string | null)[] = [];
    const stops = [database.changes.subscribe('strata_test', (p) => here.push(p)), other.changes.subscribe('strata_test', (p) => there.push(p))];
    await vi.waitFor(() => expect(database.changes.live && other.changes.live).toBe(true), { timeout: 15_000 });
    // PostgreSQL: a listener hears `null` once its LISTEN is in place (earlier changes were missed).
    if (engine === 'postgres') expect(there).toContain(null);
    there.length = 0;
    here.length = 0;
    await database.db.transaction().execute((trx) => database.changes.notify(trx, 'strata_test', 'one'));
    await database.db
      .transaction()
      .execute(async (trx) => {
        await database.changes.notify(trx, 'strata_test', 'rolled-back');
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await database.db.transaction().execute((trx) => database.changes.notify(trx, 'strata_test', 'two'));
    // Once the other process syncs, everything committed before has reached it: no waiting.
    expect(await other.changes.sync()).toBe(true);
    // Across processes only committed changes arrive; in this process every notify is heard at once.
    expect(there.filter((p) => p !== null)).toEqual(engine === 'postgres' ? ['one', 'two'] : ['one', 'rolled-back', 'two']);
    // (On PostgreSQL this process also hears its own committed changes back from its LISTEN.)
    expect([...new Set(here)]).toEqual(['one', 'rolled-back', 'two']);
    for (const stop of stops) stop();
  });

  it('sync(since): every change committed before `since` has arrived; a round trip sent after `since` answers later calls at once', async () => {
    const there: (string | null)[] = [];
    const stop = other.changes.subscribe('strata_test_since', (p) => there.push(p));
    await vi.waitFor(() => expect(other.changes.live).toBe(true), { timeout: 15_000 });
    await database.db.transaction().execute((trx) => database.changes.notify(trx, 'strata_test_since', 'three'));
    const since = performance.now();
    expect(await other.changes.sync(since)).toBe(true);
    expect(there).toContain('three');
    await database.db.transaction().execute((trx) => database.changes.notify(trx, 'strata_test_since', 'four'));
    // A request that arrived at `since` asks again (its next cache): the round trip above answers it, without another.
    let answered: boolean | undefined;
    void other.changes.sync(since).then((ok) => (answered = ok));
    await Promise.resolve();
    await Promise.resolve();
    expect(answered).toBe(true);
    // A later arrival is not answered by that round trip: 'four', committed before it, has arrived once it syncs.
    expect(await other.changes.sync(performance.now())).toBe(true);
    expect(there).toContain('four');
    stop();
  });

  it.runIf(engine === 'postgres')('callers of one turn of the event loop share one round trip, though each arrived after the one before asked', async () => {
    const sent: string[] = [];
    // A feed over a LISTEN client whose statements are counted.
    const feed = createPostgresChangeFeed(
      () => {
        const client = listenerClient(database.url as string);
        const query = client.query.bind(client) as (text: string) => Promise<unknown>;
        (client as unknown as { query: (text: string) => Promise<unknown> }).query = (text: string) => {
          sent.push(text);
          return query(text);
        };
        return client;
      },
      { syncWaitMs: 15_000 },
    );
    try {
      const stop = feed.subscribe('strata_test_turn', () => undefined);
      await vi.waitFor(() => expect(feed.live).toBe(true), { timeout: 15_000 });
      sent.length = 0;
      // Three requests of one poll of the event loop: each asks with its own arrival time.
      const answers = [feed.sync(performance.now()), feed.sync(performance.now()), feed.sync(performance.now())];
      expect(await Promise.all(answers)).toEqual([true, true, true]);
      expect(sent).toEqual(['']);
      stop();
    } finally {
      await feed.close();
    }
  });

  it('refuses a channel name that is not an identifier', async () => {
    expect(() => database.changes.subscribe('drop table; --', () => undefined)).toThrow(/lower-case identifier/);
    await expect(database.db.transaction().execute((trx) => database.changes.notify(trx, 'Bad Channel', 'x'))).rejects.toThrow(/lower-case identifier/);
  });
});
