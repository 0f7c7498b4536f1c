import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, testEngines, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import {
  DEMO_ACTIVITY_END_EXCLUSIVE,
  DEMO_ACTIVITY_START,
  isWarehouseEmpty,
  seedDemoData,
  type SeedSummary,
} from '../domains/wealth/demo-data/seed-demo-data.ts';
import type { Engine } from '../store/database.ts';

const CUSTOMERS = 1_500;
const SEED = 7;
const engines = await testEngines();

/** Per table: its rows as text (NULLs kept in place) in a fixed order, timestamps rendered in UTC, hashed. */
const CHECKSUMS = {
  customers: sql`SELECT md5(string_agg(ROW(customer_id, registered_at AT TIME ZONE 'UTC', channel, city_tier,
      age_band, gender, risk_level, account_class, kyc_completed_at AT TIME ZONE 'UTC')::text, '|' ORDER BY customer_id COLLATE "C")) AS sum
    FROM wealth.customers`,
  risk_assessments: sql`SELECT md5(string_agg(ROW(customer_id, risk_level, valid_from, valid_to)::text, '|'
      ORDER BY customer_id COLLATE "C", valid_from)) AS sum FROM wealth.risk_assessments`,
  products: sql`SELECT md5(string_agg(ROW(product_id, name, product_type, risk_rating, launched_at)::text, '|'
      ORDER BY product_id COLLATE "C")) AS sum FROM wealth.products`,
  product_nav: sql`SELECT md5(string_agg(ROW(product_id, as_of, nav)::text, '|' ORDER BY product_id COLLATE "C", as_of)) AS sum
    FROM wealth.product_nav`,
  transactions: sql`SELECT md5(string_agg(ROW(txn_id, customer_id, product_id, txn_type, amount, status, channel,
      occurred_at AT TIME ZONE 'UTC')::text, '|' ORDER BY txn_id COLLATE "C")) AS sum FROM wealth.transactions`,
  holdings_daily: sql`SELECT md5(string_agg(ROW(customer_id, product_id, as_of, market_value)::text, '|'
      ORDER BY customer_id COLLATE "C", product_id COLLATE "C", as_of)) AS sum FROM wealth.holdings_daily`,
  app_events: sql`SELECT md5(string_agg(ROW(event_id, customer_id, anonymous_id, event_name, occurred_at AT TIME ZONE 'UTC',
      channel, page, placement_id, product_id, properties)::text, '|' ORDER BY event_id COLLATE "C")) AS sum FROM wealth.app_events`,
} as const;
type Checksums = Record<keyof typeof CHECKSUMS, string>;

async function checksums(database: TestDatabase): Promise<Checksums> {
  const out: Partial<Checksums> = {};
  for (const [table, query] of Object.entries(CHECKSUMS) as [keyof Checksums, (typeof CHECKSUMS)[keyof Checksums]][]) {
    const { rows } = await query.execute(database.db);
    out[table] = String((rows[0] as { sum: string | null }).sum);
  }
  return out as Checksums;
}

async function seededChecksums(engine: Engine, seed: number): Promise<Checksums> {
  const database = await createTestDatabase(engine);
  try {
    await seedDemoData(database, { customers: CUSTOMERS, seed });
    return await checksums(database);
  } finally {
    await database.dispose();
  }
}

async function count(database: TestDatabase, query: ReturnType<typeof sql>): Promise<number> {
  const { rows } = await query.execute(database.db);
  return Number((rows[0] as { n: number | string }).n);
}

const checksumsByEngine = new Map<Engine, Checksums>();

await describeEachEngine('demo data on %s', (engine) => {
  let database: TestDatabase;
  let summary: SeedSummary;
  let first: Checksums;
  const steps: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    expect(await isWarehouseEmpty(database)).toBe(true);
    summary = await seedDemoData(database, {
      customers: CUSTOMERS,
      seed: SEED,
      onProgress: (event) => {
        const line = `${event.step}/${event.steps} ${event.stage}${event.total === undefined ? '' : ` (${event.total} ${event.unit})`}`;
        if (steps.at(-1) !== line) steps.push(line);
      },
    });
    first = await checksums(database);
    checksumsByEngine.set(engine, first);
  });
  afterAll(() => database?.dispose());

  it('reports what it loaded, and the tables hold exactly that', async () => {
    expect(summary.customers).toBe(CUSTOMERS);
    expect(await count(database, sql`SELECT count(*) AS n FROM wealth.customers`)).toBe(CUSTOMERS);
    expect(await count(database, sql`SELECT count(*) AS n FROM wealth.products`)).toBe(summary.products);
    expect(await count(database, sql`SELECT count(*) AS n FROM wealth.transactions`)).toBe(summary.transactions);
    expect(await count(database, sql`SELECT count(*) AS n FROM wealth.app_events`)).toBe(summary.events);
    expect(await count(database, sql`SELECT count(*) AS n FROM wealth.holdings_daily`)).toBe(summary.holdings);
    expect(summary.products).toBeGreaterThanOrEqual(150);
    expect(summary.events).toBeGreaterThan(CUSTOMERS * 10);
    expect(summary.holdings).toBeGreaterThan(0);
    // Progress says which step of how many, and what a counted step counts.
    expect(steps).toEqual([
      `1/6 generating customers (${CUSTOMERS} customers)`,
      '2/6 loading products and daily NAV',
      `3/6 simulating 12 months of activity (${CUSTOMERS} customers)`,
      `4/6 deriving daily holdings (${CUSTOMERS} customers)`,
      '5/6 rebuilding indexes',
      '6/6 analyzing tables',
    ]);
    expect(await isWarehouseEmpty(database)).toBe(false);
  });

  it('gives sortable zero-padded customer ids c000001..c001500', async () => {
    const { rows } = await sql<{ low: string; high: string; bad: number }>`
      SELECT min(customer_id) AS low, max(customer_id) AS high, count(*) FILTER (WHERE customer_id !~ '^c[0-9]{6}$') AS bad
      FROM wealth.customers`.execute(database.db);
    expect(rows[0]).toEqual({ low: 'c000001', high: 'c001500', bad: 0 });
  });

  it('is deterministic: a second run with the same seed gives the same rows', async () => {
    expect(await seededChecksums(engine, SEED)).toEqual(first);
  });

  it('gives different data for a different seed', async () => {
    const other = await seededChecksums(engine, SEED + 1);
    for (const table of ['customers', 'risk_assessments', 'transactions', 'app_events', 'holdings_daily'] as const) {
      expect(other[table], table).not.toBe(first[table]);
    }
  });

  it('refuses to load into a warehouse that already has customers', async () => {
    await expect(seedDemoData(database, { customers: 10 })).rejects.toThrow(/wealth\.customers already has rows/);
  });

  it('restores the indexes and primary keys it suspended while loading', async () => {
    const { rows } = await sql<{ name: string }>`
      SELECT indexname AS name FROM pg_indexes
      WHERE schemaname = 'wealth' AND tablename IN ('app_events', 'transactions', 'holdings_daily') ORDER BY 1`.execute(database.db);
    expect(rows.map((r) => r.name)).toEqual(
      expect.arrayContaining(['app_events_pkey', 'holdings_daily_pk', 'transactions_pkey', 'app_events_customer_idx', 'holdings_daily_as_of_idx']),
    );
    expect(await count(database, sql`SELECT count(*) AS n FROM pg_tables WHERE tablename = 'demo_seed_positions'`)).toBe(0);
  });

  it('resolves every customer and product a fact row points to', async () => {
    const orphans = await count(
      database,
      sql`SELECT
        (SELECT count(*) FROM wealth.transactions t WHERE NOT EXISTS (SELECT 1 FROM wealth.customers c WHERE c.customer_id = t.customer_id)
                                                     OR NOT EXISTS (SELECT 1 FROM wealth.products p WHERE p.product_id = t.product_id))
      + (SELECT count(*) FROM wealth.app_events e
         WHERE (e.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM wealth.customers c WHERE c.customer_id = e.customer_id))
            OR (e.product_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM wealth.products p WHERE p.product_id = e.product_id))
            OR (e.customer_id IS NULL AND e.anonymous_id IS NULL))
      + (SELECT count(*) FROM wealth.holdings_daily h WHERE NOT EXISTS (SELECT 1 FROM wealth.customers c WHERE c.customer_id = h.customer_id)
                                                       OR NOT EXISTS (SELECT 1 FROM wealth.products p WHERE p.product_id = h.product_id)) AS n`,
    );
    expect(orphans).toBe(0);
  });

  it('keeps every event and transaction inside the 12-month window', async () => {
    const { rows } = await sql<{ outside: number; first_day: string; last_day: string }>`
      SELECT count(*) FILTER (WHERE occurred_at < ${DEMO_ACTIVITY_START}::timestamp AT TIME ZONE 'Asia/Shanghai'
                                 OR occurred_at >= ${DEMO_ACTIVITY_END_EXCLUSIVE}::timestamp AT TIME ZONE 'Asia/Shanghai') AS outside,
             to_char(min(occurred_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD') AS first_day,
             to_char(max(occurred_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM') AS last_day
      FROM (SELECT occurred_at FROM wealth.app_events UNION ALL SELECT occurred_at FROM wealth.transactions) x`.execute(database.db);
    expect(rows[0]).toEqual({ outside: 0, first_day: DEMO_ACTIVITY_START, last_day: '2026-10' });
  });

  it('never has a purchase_success without an earlier purchase_submit by the same customer', async () => {
    expect(await count(database, sql`SELECT count(*) AS n FROM wealth.app_events WHERE event_name = 'purchase_success'`)).toBeGreaterThan(100);
    const unexplained = await count(
      database,
      sql`SELECT count(*) AS n FROM wealth.app_events s
          WHERE s.event_name = 'purchase_success' AND NOT EXISTS (
            SELECT 1 FROM wealth.app_events b WHERE b.event_name = 'purchase_submit' AND b.customer_id = s.customer_id
              AND b.occurred_at < s.occurred_at)`,
    );
    expect(unexplained).toBe(0);
  });

  it('records every succeeded purchase right after a purchase_success event for it', async () => {
    const unexplained = await count(
      database,
      sql`SELECT count(*) AS n FROM wealth.transactions t
          WHERE t.txn_type = 'purchase' AND t.status = 'succeeded' AND NOT EXISTS (
            SELECT 1 FROM wealth.app_events e WHERE e.event_name = 'purchase_success' AND e.customer_id = t.customer_id
              AND e.product_id = t.product_id AND e.occurred_at <= t.occurred_at AND e.occurred_at > t.occurred_at - interval '1 minute')`,
    );
    expect(unexplained).toBe(0);
  });

  it('values every holding above zero and only after the product was bought', async () => {
    expect(await count(database, sql`SELECT count(*) AS n FROM wealth.holdings_daily WHERE market_value <= 0`)).toBe(0);
    const unbought = await count(
      database,
      sql`SELECT count(*) AS n FROM wealth.holdings_daily h WHERE NOT EXISTS (
            SELECT 1 FROM wealth.transactions t WHERE t.customer_id = h.customer_id AND t.product_id = h.product_id
              AND t.txn_type = 'purchase' AND t.status = 'succeeded' AND (t.occurred_at AT TIME ZONE 'Asia/Shanghai')::date <= h.as_of)`,
    );
    expect(unbought).toBe(0);
  });

  it('never redeems more than the customer held (holdings never go negative)', async () => {
    const redemptions = await count(database, sql`SELECT count(*) AS n FROM wealth.transactions WHERE txn_type = 'redemption' AND status = 'succeeded'`);
    expect(redemptions).toBeGreaterThan(20);
    const overdrawn = await count(
      database,
      sql`WITH flows AS (
            SELECT customer_id, product_id, (occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
                   sum(amount) FILTER (WHERE txn_type = 'redemption') AS redeemed,
                   sum(amount) FILTER (WHERE txn_type = 'purchase') AS bought
            FROM wealth.transactions WHERE status = 'succeeded' GROUP BY 1, 2, 3)
          SELECT count(*) AS n FROM flows f
          JOIN wealth.product_nav today ON today.product_id = f.product_id AND today.as_of = f.day
          LEFT JOIN wealth.product_nav yesterday ON yesterday.product_id = f.product_id AND yesterday.as_of = f.day - 1
          LEFT JOIN wealth.holdings_daily h ON h.customer_id = f.customer_id AND h.product_id = f.product_id AND h.as_of = f.day - 1
          WHERE f.redeemed > coalesce(h.market_value / yesterday.nav * today.nav, 0) + coalesce(f.bought, 0) + 0.05`,
    );
    expect(overdrawn).toBe(0);
  });

  it('concentrates purchases in money-market and bond funds', async () => {
    const { rows } = await sql<{ share: string }>`
      SELECT sum(t.amount) FILTER (WHERE p.product_type IN ('money_market', 'bond_fund')) / sum(t.amount) AS share
      FROM wealth.transactions t JOIN wealth.products p USING (product_id)
      WHERE t.txn_type = 'purchase' AND t.status = 'succeeded'`.execute(database.db);
    expect(Number(rows[0]!.share)).toBeGreaterThan(0.5);
    expect(Number(rows[0]!.share)).toBeLessThan(0.95);
  });

  it('has placement click-through rates between 1% and 8%', async () => {
    const { rows } = await sql<{ placement_id: string; ctr: string }>`
      SELECT placement_id, count(*) FILTER (WHERE event_name = 'placement_click')::numeric
                           / count(*) FILTER (WHERE event_name = 'placement_impression') AS ctr
      FROM wealth.app_events WHERE placement_id IS NOT NULL GROUP BY 1
      HAVING count(*) FILTER (WHERE event_name = 'placement_impression') >= 1000`.execute(database.db);
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const row of rows) {
      expect(Number(row.ctr), row.placement_id).toBeGreaterThan(0.01);
      expect(Number(row.ctr), row.placement_id).toBeLessThan(0.08);
    }
  });

  it('loses more buyers between submit and success on some channels than on others', async () => {
    const { rows } = await sql<{ channel: string; rate: string }>`
      SELECT channel, count(*) FILTER (WHERE event_name = 'purchase_success')::numeric
                      / count(*) FILTER (WHERE event_name = 'purchase_submit') AS rate
      FROM wealth.app_events WHERE event_name IN ('purchase_submit', 'purchase_success') GROUP BY 1
      HAVING count(*) FILTER (WHERE event_name = 'purchase_submit') >= 50`.execute(database.db);
    const rates = rows.map((r) => Number(r.rate));
    expect(rates.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...rates)).toBeGreaterThan(0.5);
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThan(0.03);
  });

  it('has anonymous visitors, new customers and dormant customers at the end of the window', async () => {
    const { rows } = await sql<{ anonymous: number; fresh: number; dormant: number; registered_events: number }>`
      SELECT
        (SELECT count(*) FROM wealth.app_events WHERE customer_id IS NULL AND anonymous_id IS NOT NULL) AS anonymous,
        (SELECT count(*) FROM wealth.customers
          WHERE registered_at >= ${DEMO_ACTIVITY_END_EXCLUSIVE}::timestamp AT TIME ZONE 'Asia/Shanghai' - interval '30 days') AS fresh,
        (SELECT count(*) FROM wealth.customers c WHERE NOT EXISTS (SELECT 1 FROM wealth.app_events e WHERE e.customer_id = c.customer_id
           AND e.occurred_at >= ${DEMO_ACTIVITY_END_EXCLUSIVE}::timestamp AT TIME ZONE 'Asia/Shanghai' - interval '90 days')) AS dormant,
        (SELECT count(*) FROM wealth.app_events WHERE event_name = 'register') AS registered_events`.execute(database.db);
    const { anonymous, fresh, dormant, registered_events } = rows[0]!;
    expect(Number(anonymous)).toBeGreaterThan(CUSTOMERS);
    expect(Number(fresh)).toBeGreaterThan(CUSTOMERS * 0.03);
    expect(Number(dormant)).toBeGreaterThan(CUSTOMERS * 0.2);
    expect(Number(dormant)).toBeLessThan(CUSTOMERS * 0.9);
    expect(Number(registered_events)).toBeGreaterThan(CUSTOMERS * 0.4);
  });

  it('spreads AUM with a long tail across customers', async () => {
    const { rows } = await sql<{ holders: number; median: string; top: string }>`
      WITH aum AS (SELECT customer_id, sum(market_value) AS aum FROM wealth.holdings_daily
                   WHERE as_of = (SELECT max(as_of) FROM wealth.holdings_daily) GROUP BY 1)
      SELECT count(*) AS holders, percentile_cont(0.5) WITHIN GROUP (ORDER BY aum) AS median, max(aum) AS top FROM aum`.execute(database.db);
    const { holders, median, top } = rows[0]!;
    expect(Number(holders)).toBeGreaterThan(CUSTOMERS * 0.1);
    expect(Number(median)).toBeGreaterThan(1_000);
    expect(Number(median)).toBeLessThan(100_000);
    expect(Number(top) / Number(median)).toBeGreaterThan(100);
  });
});

describe('demo data across engines', () => {
  it.runIf(engines.length > 1)('gives bit-identical tables on PGlite and PostgreSQL', () => {
    expect(checksumsByEngine.get('postgres')).toEqual(checksumsByEngine.get('pglite'));
  });
});
