import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { ingestEvents } from '../store/event-store.ts';
import { ensureMonthlyPartitions, WEALTH_PARTITIONED_FACTS } from '../store/partitions.ts';
import { migrationProvider } from '../migrations/index.ts';
import { migrateToLatest } from '../store/migrate.ts';
import type { ValidEvent } from '../modeling/events/validate-event.ts';

/**
 * Partitioned facts (migration 0016, README "Scale-out"): `wealth.app_events` and
 * `wealth.holdings_daily` are partitioned by month with a default partition; the seed and
 * ingestion create the months they need; a time-bounded metric reads only its months'
 * partitions (EXPLAIN); idempotency by `eventId` holds across partitions; the migration
 * moves existing rows.
 */

const partitionsOf = async (db: Kysely<any>, table: string) =>
  (
    await sql<{ name: string }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = to_regclass(${table}) ORDER BY 1`.execute(db)
  ).rows.map((r) => r.name);

/** Every table a plan reads (EXPLAIN's "Relation Name"s). */
async function relationsRead(db: Kysely<any>, text: string, parameters: readonly unknown[]): Promise<string[]> {
  const { rows } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) ${sql.raw(inline(text, parameters))}`.execute(db);
  const found = new Set<string>();
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Relation Name' && typeof value === 'string') found.add(value);
      else visit(value);
    }
  };
  const plan = rows[0]?.['QUERY PLAN'];
  visit(typeof plan === 'string' ? JSON.parse(plan) : plan);
  return [...found].sort();
}

/** The statement with its parameters as literals (EXPLAIN takes none), for reading its plan only. */
function inline(text: string, parameters: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_match, n: string) => {
    const value = parameters[Number(n) - 1];
    if (typeof value === 'number') return String(value);
    if (value === null || value === undefined) return 'NULL';
    return `'${String(value).replace(/'/g, "''")}'`;
  });
}

await describeEachEngine('partitioned facts on %s', (engine) => {
  let database: TestDatabase;
  const layer = createSemanticLayer(wealthCatalog(), { maxRows: 100_000 });

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 300, seed: 9 });
  });
  afterAll(() => database?.dispose());

  it('holds the seeded year in monthly partitions, with the months ahead and an empty default partition', async () => {
    for (const table of ['app_events', 'holdings_daily']) {
      const names = await partitionsOf(database.db, `wealth.${table}`);
      expect(names).toContain(`${table}_default`);
      for (const month of ['2025_11', '2026_03', '2026_10', '2027_01']) expect(names).toContain(`${table}_p${month}`);
      const inDefault = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM ${sql.table(`wealth.${table}_default`)}`.execute(database.db);
      expect(inDefault.rows[0]?.n).toBe(0);
    }
    // Each event sits in the partition of its month in the reporting time zone.
    const misplaced = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM wealth.app_events_p2026_03
      WHERE to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') <> '2026-03'`.execute(database.db);
    expect(misplaced.rows[0]?.n).toBe(0);
    const march = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM wealth.app_events_p2026_03`.execute(database.db);
    expect(march.rows[0]?.n).toBeGreaterThan(0);
    const keys = await sql<{
      events: number;
      keys: number;
    }>`SELECT (SELECT COUNT(*)::int FROM wealth.app_events) AS events, (SELECT COUNT(*)::int FROM wealth.app_event_keys) AS keys`.execute(database.db);
    expect(keys.rows[0]?.keys).toBe(keys.rows[0]?.events);
  });

  it('reads only the partitions of a time-bounded metric’s range (EXPLAIN)', async () => {
    const events = layer.plan({
      metrics: ['active_customers'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
      timeRange: { from: '2026-03-01', to: '2026-04-01' },
    });
    const read = await relationsRead(database.db, events.compiled.sql, events.compiled.parameters);
    expect(read.filter((r) => r.startsWith('app_events'))).toEqual(['app_events_p2026_03']);
    const holdings = layer.plan({
      metrics: ['aum'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
      timeRange: { from: '2026-02-01', to: '2026-04-01' },
    });
    const readHoldings = await relationsRead(database.db, holdings.compiled.sql, holdings.compiled.parameters);
    expect(readHoldings.filter((r) => r.startsWith('holdings_daily'))).toEqual(['holdings_daily_p2026_02', 'holdings_daily_p2026_03']);
    // Unbounded, every partition is read.
    const all = layer.plan({ metrics: ['active_customers'] });
    expect((await relationsRead(database.db, all.compiled.sql, all.compiled.parameters)).filter((r) => r.startsWith('app_events')).length).toBeGreaterThan(12);
  });

  it('creates the month an ingested event needs, and keeps eventId idempotent across partitions', async () => {
    const event = (id: string, occurredAt: string): ValidEvent =>
      ({
        eventId: id,
        name: 'app_open',
        customerId: null,
        anonymousId: 'anon-x',
        occurredAt,
        channel: 'app',
        page: null,
        placementId: null,
        productId: null,
        properties: {},
        personalProperties: [],
      }) as unknown as ValidEvent;
    const first = await ingestEvents(database, [event('scale-late-1', '2031-05-10T03:00:00Z')]);
    expect(first).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await partitionsOf(database.db, 'wealth.app_events')).toContain('app_events_p2031_05');
    // The same id at another time (another partition) is a duplicate.
    expect(await ingestEvents(database, [event('scale-late-1', '2026-03-10T03:00:00Z')])).toMatchObject({ accepted: 0, duplicates: 1 });
    const stored = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM wealth.app_events WHERE event_id = 'scale-late-1'`.execute(database.db);
    expect(stored.rows[0]?.n).toBe(1);
  });

  it('moves rows out of the default partition when their month gets a partition late', async () => {
    await sql`INSERT INTO wealth.holdings_daily (customer_id, product_id, as_of, market_value) VALUES ('c-late', 'p-late', DATE '2033-02-14', 10)`.execute(
      database.db,
    );
    const before = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM wealth.holdings_daily_default`.execute(database.db);
    expect(before.rows[0]?.n).toBe(1);
    expect(
      await ensureMonthlyPartitions(database.db, WEALTH_PARTITIONED_FACTS[1] as (typeof WEALTH_PARTITIONED_FACTS)[number], ['2033-02', '2026-03']),
    ).toEqual(['2033-02']);
    const after = await sql<{ inDefault: number; inMonth: number }>`SELECT (SELECT COUNT(*)::int FROM wealth.holdings_daily_default) AS "inDefault",
      (SELECT COUNT(*)::int FROM wealth.holdings_daily_p2033_02) AS "inMonth"`.execute(database.db);
    expect(after.rows[0]).toEqual({ inDefault: 0, inMonth: 1 });
  });
});

await describeEachEngine('migration 0016 on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
  });
  afterAll(() => database?.dispose());

  it('moves existing events and holdings into monthly partitions, and back on the way down', async () => {
    const migrator = new Migrator({ db: database.db, provider: migrationProvider, migrationTableSchema: 'public' });
    const step = await migrator.migrateTo('0013-goals-and-exposure-index');
    expect(step.error).toBeUndefined();
    await sql`INSERT INTO wealth.app_events (event_id, customer_id, anonymous_id, event_name, occurred_at, channel)
      VALUES ('m1', NULL, 'a1', 'app_open', TIMESTAMPTZ '2026-01-31 17:00:00+00', 'app'),
             ('m2', NULL, 'a2', 'app_open', TIMESTAMPTZ '2026-01-31 15:00:00+00', 'app')`.execute(database.db);
    await sql`INSERT INTO wealth.holdings_daily (customer_id, product_id, as_of, market_value)
      VALUES ('c1', 'p1', DATE '2026-01-31', 5), ('c1', 'p1', DATE '2026-02-01', 6)`.execute(database.db);
    await migrateToLatest(database.db);
    // 17:00 UTC on Jan 31 is Feb 1 in Shanghai: months are cut in the reporting time zone.
    const placed = await sql<{
      event_id: string;
      partition: string;
    }>`SELECT event_id, tableoid::regclass::text AS partition FROM wealth.app_events ORDER BY 1`.execute(database.db);
    expect(placed.rows).toEqual([
      { event_id: 'm1', partition: 'wealth.app_events_p2026_02' },
      { event_id: 'm2', partition: 'wealth.app_events_p2026_01' },
    ]);
    const holdings = await sql<{ partition: string }>`SELECT tableoid::regclass::text AS partition FROM wealth.holdings_daily ORDER BY as_of`.execute(
      database.db,
    );
    expect(holdings.rows.map((r) => r.partition)).toEqual(['wealth.holdings_daily_p2026_01', 'wealth.holdings_daily_p2026_02']);
    const keys = await sql<{ event_id: string }>`SELECT event_id FROM wealth.app_event_keys ORDER BY 1`.execute(database.db);
    expect(keys.rows.map((r) => r.event_id)).toEqual(['m1', 'm2']);
    const primaryKeys = await sql<{ table: string; definition: string }>`SELECT conrelid::regclass::text AS table, pg_get_constraintdef(oid) AS definition
      FROM pg_constraint WHERE contype = 'p' AND conrelid IN ('wealth.app_events'::regclass, 'wealth.holdings_daily'::regclass, 'wealth.transactions'::regclass) ORDER BY 1`.execute(
      database.db,
    );
    expect(primaryKeys.rows).toEqual([
      { table: 'wealth.app_events', definition: 'PRIMARY KEY (event_id, occurred_at)' },
      { table: 'wealth.holdings_daily', definition: 'PRIMARY KEY (customer_id, product_id, as_of)' },
      { table: 'wealth.transactions', definition: 'PRIMARY KEY (customer_id, txn_id)' },
    ]);

    const down = await migrator.migrateTo('0013-goals-and-exposure-index');
    expect(down.error).toBeUndefined();
    const plain = await sql<{ n: number; partitioned: boolean }>`SELECT (SELECT COUNT(*)::int FROM wealth.app_events) AS n,
      EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'wealth.app_events'::regclass) AS partitioned`.execute(database.db);
    expect(plain.rows[0]).toEqual({ n: 2, partitioned: false });
    await migrateToLatest(database.db);
  });
});
