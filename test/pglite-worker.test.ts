import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../api/app.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

/** Seconds of PGlite work even on a fast machine (13 s measured here); a limit of 1 s cuts it off. */
const LONG_QUERY = sql<{ count: number }>`SELECT count(*)::int AS count FROM generate_series(1, 30000000)`;
/** A third of that, for the cases that wait until the statement has run to its end. */
const SHORTER_QUERY = sql<{ count: number }>`SELECT count(*)::int AS count FROM generate_series(1, 10000000)`;
const LIMIT_MS = 1_000;

// The database handle is untyped here: these suites only use their own scratch tables.
const anyDb = (database: Database) => database.db as unknown as Kysely<Record<string, { n: number }>>;

/** A migrated in-memory PGlite without a time limit, served over HTTP for the suite: `database` and `base` after beforeAll. */
function serveMigratedMemoryDatabase(): { database: Database; base: string } {
  const served = {} as { database: Database; base: string };
  let app: App | undefined;
  beforeAll(async () => {
    served.database = await openDatabase({ dataDir: 'memory://', statementTimeoutMs: 0 });
    await migrateToLatest(served.database.db);
    app = await createApp(served.database, bundledDomain(), { dev: false, maxBodyBytes: 64 * 1024 });
    served.base = `http://127.0.0.1:${await app.listen(0)}`;
  });
  afterAll(async () => {
    await app?.close();
    await served.database?.close();
  });
  return served;
}

describe('PGlite in a worker thread keeps the event loop free', () => {
  const served = serveMigratedMemoryDatabase();

  it('answers /health and keeps timers ticking while a long query runs', async () => {
    let ticks = 0;
    const interval = setInterval(() => (ticks += 1), 10);
    let finished = false;
    const long = SHORTER_QUERY.execute(served.database.db).finally(() => (finished = true));
    try {
      const health = await fetch(`${served.base}/health`);
      expect(health.status).toBe(200);
      // /health answered while the query was still running ...
      expect(finished).toBe(false);
      const { rows } = await long;
      expect(rows).toEqual([{ count: 10_000_000 }]);
      // ... and the timers kept firing through it (a blocked loop fires one late tick at most).
      expect(ticks).toBeGreaterThan(5);
    } finally {
      clearInterval(interval);
    }
  });
});

describe('/ready on a busy PGlite', () => {
  const served = serveMigratedMemoryDatabase();

  it('waits for the first answer, then reports a busy engine as up with the migration state it saw', async () => {
    let finished = false;
    const first = sql`SELECT count(*)::int AS count FROM generate_series(1, 2000000)`.execute(served.database.db).finally(() => (finished = true));
    // No state seen yet: the probe queues behind the query and answers from the database.
    const unknown = await fetch(`${served.base}/ready`);
    expect(unknown.status).toBe(200);
    expect(finished).toBe(true);
    await first;

    finished = false;
    const second = SHORTER_QUERY.execute(served.database.db).finally(() => (finished = true));
    const busy = await fetch(`${served.base}/ready`);
    expect(await busy.json()).toMatchObject({ status: 'ready', reachable: true, migrationsCurrent: true });
    expect(finished).toBe(false);
    await second;
  });
});

describe('PGlite statement time limit on a data folder', () => {
  let dataDir: string;
  let database: Database | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'strata-pglite-'));
  });
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('cuts a statement off with 57014, restarts, and keeps every committed row', async () => {
    database = await openDatabase({ dataDir, statementTimeoutMs: LIMIT_MS });
    await sql`CREATE TABLE kept (n int)`.execute(database.db);
    await sql`INSERT INTO kept SELECT generate_series(1, 100)`.execute(database.db);

    await expect(LONG_QUERY.execute(database.db)).rejects.toMatchObject({ code: '57014' });

    const { rows } = await sql<{ count: number }>`SELECT count(*)::int AS count FROM kept`.execute(database.db);
    expect(rows).toEqual([{ count: 100 }]);
    await sql`INSERT INTO kept VALUES (101)`.execute(database.db);
    expect(
      await anyDb(database)
        .selectFrom('kept')
        .select((eb) => eb.fn.max('n').as('n'))
        .executeTakeFirst(),
    ).toEqual({ n: 101 });
  });

  it('loses the transaction that ran past the limit, and only that one', async () => {
    database = await openDatabase({ dataDir, statementTimeoutMs: LIMIT_MS });
    const db = database.db;
    const attempt = db.transaction().execute(async (trx) => {
      await sql`INSERT INTO kept VALUES (500)`.execute(trx);
      await LONG_QUERY.execute(trx);
    });
    await expect(attempt).rejects.toMatchObject({ code: '57014' });
    const { rows } = await sql<{ n: number }>`SELECT n FROM kept WHERE n >= 500`.execute(db);
    expect(rows).toEqual([]);
  });

  it('reopens the folder after close with the data written before', async () => {
    database = await openDatabase({ dataDir, statementTimeoutMs: LIMIT_MS });
    await sql`INSERT INTO kept VALUES (102)`.execute(database.db);
    await database.close();
    await expect(sql`SELECT 1`.execute(database.db)).rejects.toThrow();
    database = await openDatabase({ dataDir, statementTimeoutMs: LIMIT_MS });
    const { rows } = await sql<{ count: number }>`SELECT count(*)::int AS count FROM kept`.execute(database.db);
    expect(rows).toEqual([{ count: 102 }]);
  });
});

describe('PGlite statement time limit in memory', () => {
  let database: Database;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://', statementTimeoutMs: LIMIT_MS });
    await sql`CREATE TABLE counted (n int)`.execute(database.db);
  });
  afterAll(async () => {
    await database.close();
  });

  it('cuts a write off with 57014 and leaves nothing of it behind, keeping the rest', async () => {
    await sql`INSERT INTO counted VALUES (7)`.execute(database.db);
    const write = sql`INSERT INTO counted SELECT count(*) FROM generate_series(1, 10000000)`.execute(database.db);
    await expect(write).rejects.toMatchObject({ code: '57014' });
    // The next statement waits for the cut-off one to end: its insert was rolled back.
    const { rows } = await sql<{ n: number }>`SELECT n FROM counted`.execute(database.db);
    expect(rows).toEqual([{ n: 7 }]);
  });

  it('lifts the limit for one transaction with SET LOCAL statement_timeout = 0, as on PostgreSQL', async () => {
    const { rows } = await database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL statement_timeout = 0`.execute(trx);
      return SHORTER_QUERY.execute(trx);
    });
    expect(rows).toEqual([{ count: 10_000_000 }]);
    const shown = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(database.db);
    expect(shown.rows).toEqual([{ statement_timeout: '1s' }]);
    await expect(SHORTER_QUERY.execute(database.db)).rejects.toMatchObject({ code: '57014' });
  });

  it('aborts a transaction that carries on after the limit: nothing of it is committed', async () => {
    const attempt = database.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO counted VALUES (1)`.execute(trx);
      await SHORTER_QUERY.execute(trx).catch(() => undefined);
      await sql`INSERT INTO counted VALUES (2)`.execute(trx);
    });
    await expect(attempt).rejects.toMatchObject({ code: '25P02' });
    const { rows } = await sql<{ n: number }>`SELECT n FROM counted`.execute(database.db);
    expect(rows).toEqual([{ n: 7 }]);
  });
});
