import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { createApp, type App } from '../api/app.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { createApiKey } from '../store/api-keys.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { createTestDatabase, isPostgresReachable, type TestDatabase } from './support/engines.ts';
import { postgresBinaries, startPrimaryCluster, startReplicaCluster, type PostgresCluster } from './support/replica-cluster.ts';
import { graphqlClient } from './support/graphql-client.ts';

/**
 * Read replicas (README "Scale-out"), against a real streaming replica made with
 * `pg_basebackup` from a primary cluster of the suite's own (initdb'd into a temporary
 * folder with the test PostgreSQL's programs, so the base backup copies this suite's
 * database only, not every database of the shared test server): with
 * `STRATA_READ_DATABASE_URL` metric queries and profile reads are answered by the replica
 * (shown by pausing its replay: they keep the old numbers while the primary has new ones),
 * writes go to the primary, the lag is measured and reported (`/ready`, `health`,
 * `/metrics`), and a replica lagging past the limit sends reads back to the primary until
 * it has caught up.
 */

const reachable = await isPostgresReachable();
const bin = reachable ? await postgresBinaries() : undefined;
if (reachable && !bin && process.env.CI)
  throw new Error('CI needs the PostgreSQL server programs (initdb, pg_ctl, postgres, pg_basebackup) of the test PostgreSQL’s version');
if (reachable && !bin)
  console.warn('SKIPPING the read-replica suite: no PostgreSQL server programs (initdb, pg_ctl, postgres, pg_basebackup) match the test PostgreSQL');

const CUSTOMERS = 300;
const NEW_CUSTOMERS = `{ metrics(query: { metrics: ["new_customers"], timeRange: { from: "2025-11-01", to: "2026-11-01" } }) { rows } }`;
const PROFILE = `query Profile($id: String!) { customer(id: $id) { id } }`;
const HEALTH = `{ health { ok engine replica { reachable serving lagSeconds lagBytes measuredAt } } }`;
const CREATE_TAG = `mutation Create($input: CreateTagInput!) { createTag(input: $input) { key status } }`;
const MATERIALIZE = `mutation { materializeTags { runId customers } }`;

describe.skipIf(!bin)('a streaming read replica', () => {
  let primaryCluster: PostgresCluster | undefined;
  let primary: TestDatabase | undefined;
  let replica: PostgresCluster | undefined;
  let replicaAdmin: pg.Client | undefined;
  /** Reads go to the replica up to an hour of lag. */
  let tolerant: Database;
  /** Reads go back to the primary as soon as the replica lags at all. */
  let strict: Database;
  const apps: App[] = [];
  const bases: string[] = [];
  const keys = {} as Record<'analyst' | 'app' | 'steward' | 'admin', string>;
  const onTolerant = graphqlClient(() => bases[0] as string);
  const onStrict = graphqlClient(() => bases[1] as string);

  beforeAll(async () => {
    primaryCluster = await startPrimaryCluster(bin as string);
    const seeded = await createTestDatabase('postgres', { adminUrl: primaryCluster.url('postgres') });
    primary = seeded;
    await seedDemoData(seeded, { customers: CUSTOMERS, seed: 5 });
    replica = await startReplicaCluster(bin as string, primaryCluster);
    // Created after the replica started: it has replayed commits, so its lag in time is known.
    keys.analyst = await createApiKey(seeded.db, 'analyst-ed', 'analyst');
    keys.app = await createApiKey(seeded.db, 'app-ui', 'app');
    keys.steward = await createApiKey(seeded.db, 'steward-ana', 'steward');
    keys.admin = await createApiKey(seeded.db, 'admin-root', 'admin');
    const name = new URL(seeded.url as string).pathname.slice(1);
    replicaAdmin = new pg.Client({ connectionString: replica.url(name) });
    await replicaAdmin.connect();
    const open = (maxLag: number) =>
      openDatabase({ databaseUrl: seeded.url, readDatabaseUrl: replica?.url(name), replicaMaxLagSeconds: maxLag, replicaCheckIntervalMs: 100, poolSize: 3 });
    tolerant = await open(3600);
    strict = await open(0);
    for (const database of [tolerant, strict]) {
      const app = await createApp(database, bundledDomain(), { dev: true, maxBodyBytes: 1_000_000, anonymousRole: null });
      apps.push(app);
      bases.push(`http://127.0.0.1:${await app.listen(0)}`);
    }
  }, 180_000);
  // Runs after a failed or timed-out set-up too: whatever started is stopped, both clusters' folders are removed
  // (a cluster still starting then stops itself; one of a killed run is removed by the next run, test/support/replica-cluster.ts).
  afterAll(async () => {
    try {
      for (const app of apps) await app.close();
      await tolerant?.close();
      await strict?.close();
      await replicaAdmin?.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
      await replicaAdmin?.end().catch(() => undefined);
      await primary?.close();
    } finally {
      await replica?.stop();
      await primaryCluster?.stop();
    }
  }, 60_000);

  /** The primary database's Kysely instance (set up by beforeAll). */
  const primaryDb = () => (primary as TestDatabase).db;
  /** Waits until the replica has replayed everything the primary had written when called, and `database` reads from it. */
  const caughtUp = async (database: Database) => {
    const { rows } = await sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`.execute(primaryDb());
    await vi.waitFor(
      async () => {
        const replayed = await replicaAdmin?.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [rows[0]?.lsn]);
        expect(replayed?.rows[0]?.done).toBe(true);
        expect(await database.replica?.measure()).toMatchObject({ reachable: true, standby: true, serving: true });
      },
      // The private primary holds this suite's database only, but catching up may take a while on a loaded machine.
      { timeout: 150_000, interval: 200 },
    );
  };
  const newCustomers = async (on: typeof onTolerant) => Number((await on.ok(keys.analyst, NEW_CUSTOMERS)).metrics.rows[0].new_customers);
  const countOnPrimary = async () =>
    Number(
      (
        await sql<{ n: number }>`SELECT COUNT(*) AS n FROM wealth.customers
          WHERE registered_at >= TIMESTAMPTZ '2025-11-01 00:00:00+08' AND registered_at < TIMESTAMPTZ '2026-11-01 00:00:00+08'`.execute(primaryDb())
      ).rows[0]?.n,
    );

  it('answers metric queries and profile reads from the replica, writes on the primary, and reports the lag', async () => {
    await caughtUp(tolerant);
    const before = await countOnPrimary();
    expect(await newCustomers(onTolerant)).toBe(before);
    const health = (await onTolerant.ok(keys.analyst, HEALTH)).health;
    expect(health).toMatchObject({ ok: true, engine: 'postgres', replica: { reachable: true, serving: true } });
    // (The primary may have written WAL since, its own housekeeping included: the lag is small, not necessarily 0.)
    expect(health.replica.lagBytes).toBeGreaterThanOrEqual(0);

    // The replica stops replaying: whatever the primary commits now, only the primary has.
    await replicaAdmin?.query('SELECT pg_wal_replay_pause()');
    const moved = await sql<{ customer_id: string }>`UPDATE wealth.customers SET registered_at = TIMESTAMPTZ '2001-01-01 00:00:00+00'
      WHERE customer_id = (SELECT customer_id FROM wealth.customers WHERE registered_at >= TIMESTAMPTZ '2026-01-01 00:00:00+08' ORDER BY customer_id LIMIT 1)
      RETURNING customer_id`.execute(primaryDb());
    expect(moved.rows).toHaveLength(1);
    expect(await countOnPrimary()).toBe(before - 1);
    // Writes go to the primary (the replica is read-only): a tag is created, the tags are materialized.
    expect(
      (
        await onTolerant.ok(keys.steward, CREATE_TAG, {
          input: { key: 'replica_probe', kind: 'BOOLEAN', description: 'Probe', rule: { dimension: 'customer.channel', op: 'IN', values: ['app'] } },
        })
      ).createTag,
    ).toEqual({
      key: 'replica_probe',
      status: 'DRAFT',
    });
    expect((await onTolerant.ok(keys.admin, MATERIALIZE)).materializeTags.customers).toBe(CUSTOMERS);

    // The tolerant instance still answers from the replica: the old count, and no profile snapshot yet.
    expect(await newCustomers(onTolerant)).toBe(before);
    const customer = moved.rows[0]?.customer_id as string;
    expect((await onTolerant.ok(keys.app, PROFILE, { id: customer })).customer).toBeNull();
    const lag = await tolerant.replica?.measure();
    expect(lag).toMatchObject({ reachable: true, standby: true, serving: true });
    expect(lag?.lagBytes).toBeGreaterThan(0);
    expect(lag?.lagSeconds).toBeGreaterThan(0);
    const ready = (await (await fetch(`${bases[0]}/ready`)).json()) as { status: string; replica: { lagBytes: number; serving: boolean } };
    expect(ready.status).toBe('ready');
    expect(ready.replica.lagBytes).toBeGreaterThan(0);
    expect((await onTolerant.ok(keys.analyst, HEALTH)).health.replica.lagBytes).toBeGreaterThan(0);
    const exposition = await (await fetch(`${bases[0]}/metrics`)).text();
    expect(exposition).toMatch(/^strata_replica_lag_bytes [1-9]\d*$/m);
    expect(exposition).toMatch(/^strata_replica_serving 1$/m);

    // The strict instance sends reads back to the primary: the new count and the new profile.
    await vi.waitFor(async () => expect((await strict.replica?.measure())?.serving).toBe(false), { timeout: 10_000, interval: 100 });
    expect(await newCustomers(onStrict)).toBe(before - 1);
    expect((await onStrict.ok(keys.app, PROFILE, { id: customer })).customer).toEqual({ id: customer });
    expect((await onStrict.ok(keys.analyst, HEALTH)).health.replica).toMatchObject({ reachable: true, serving: false });
    expect(((await (await fetch(`${bases[1]}/ready`)).json()) as { status: string }).status).toBe('ready');

    // Replay resumes: both instances read the replica again, and it has everything.
    await replicaAdmin?.query('SELECT pg_wal_replay_resume()');
    await caughtUp(tolerant);
    expect(await newCustomers(onTolerant)).toBe(before - 1);
    expect(await newCustomers(onStrict)).toBe(before - 1);
    expect((await onTolerant.ok(keys.app, PROFILE, { id: customer })).customer).toEqual({ id: customer });
  }, 420_000);

  it('refuses STRATA_READ_DATABASE_URL without a PostgreSQL primary', async () => {
    await expect(openDatabase({ readDatabaseUrl: 'postgres://postgres@127.0.0.1:1/x' })).rejects.toThrow(/needs PostgreSQL/);
  });
});
