import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { materializeDomain } from '../api/materialize-domain.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';

/**
 * A materialization is a batch job: its statements run under their own limit
 * (STRATA_MATERIALIZE_STATEMENT_TIMEOUT_MS), not the interactive one that cuts off a slow
 * metric query, and a run cut off by its own limit changes nothing.
 */
await describeEachEngine('materialization statement limit on %s', (engine) => {
  let database: TestDatabase;
  /** The same data behind a 50 ms interactive statement limit. */
  let strict: Database;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 300, seed: 5 });
    if (database.url) strict = await openDatabase({ databaseUrl: database.url, poolSize: 1, statementTimeoutMs: 50 });
    else {
      await sql`SET statement_timeout = 50`.execute(database.db);
      strict = database;
    }
  });
  afterAll(async () => {
    if (strict !== database) await strict?.close();
    await database?.dispose();
  });

  const published = async () =>
    (await sql<{ n: number }>`SELECT count(*)::int AS n FROM strata.tag_runs WHERE status = 'published'`.execute(database.db)).rows[0]?.n;

  it('refuses an interactive statement over the limit but completes a materialization', async () => {
    await expect(sql`SELECT pg_sleep(0.2)`.execute(strict.db)).rejects.toMatchObject({ code: '57014' });
    const run = await materializeDomain(strict, {});
    expect(run).toMatchObject({ status: 'published', customers: 300 });
  });

  it("cuts a run off at the materialization's own limit and leaves the snapshot as it was", async () => {
    if (!database.url) await sql`SET statement_timeout = 0`.execute(database.db);
    const before = await published();
    await expect(materializeDomain(database, { statementTimeoutMs: 1 })).rejects.toThrow(/statement timeout/);
    expect(await published()).toBe(before);
  });
});
