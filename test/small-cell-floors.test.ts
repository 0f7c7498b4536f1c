import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { createSemanticLayer, type QueryAccess, type SemanticLayer } from '../modeling/semantic-layer.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';

/**
 * Small-cell checks read the hidden subject counts first as floors (64 hash buckets, one pass
 * over the rows) and exactly only when a floor cannot decide. Planted: a channel of K + 2
 * customers whose ids all fall in one bucket (a floor of 1, far under K), a channel of K - 1
 * customers and one of 4K, so the exact counts must overrule the floor one way and agree the
 * other, and the floors alone decide where every cell is large.
 */

const K = 10;
const ANALYST: QueryAccess = { clearance: 'internal', minSubjects: K };
const OCTOBER = { from: '2026-10-01', to: '2026-11-01' };
const byChannel = (channels?: string[]): MetricQuery => ({
  metrics: ['purchase_amount'],
  groupBy: [{ dimension: 'customer.channel' }],
  timeRange: OCTOBER,
  ...(channels ? { where: { kind: 'compare' as const, dimension: 'customer.channel', op: 'IN' as const, values: channels } } : {}),
});

await describeEachEngine('small-cell floors on %s', (engine) => {
  let database: TestDatabase;
  let layer: SemanticLayer;
  let colliding: string[];

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 2_000, seed: 5 });
    const { db } = database;
    // K + 2 ids whose hashes share one of the 64 buckets the floor counts.
    const { rows } = await sql<{ id: string }>`SELECT id FROM (SELECT 'kx' || g AS id FROM generate_series(1, 5000) AS g) AS c
      WHERE (hashtext(id) & 63) = 7 ORDER BY id LIMIT ${K + 2}`.execute(db);
    colliding = rows.map((r) => r.id);
    const planted = [
      ...colliding.map((id) => ({ id, channel: 'kiosk_x' })),
      ...Array.from({ length: K - 1 }, (_, i) => ({ id: `ky${i}`, channel: 'kiosk_y' })),
      ...Array.from({ length: 4 * K }, (_, i) => ({ id: `kb${i}`, channel: 'kiosk_big' })),
    ];
    for (const [i, { id, channel }] of planted.entries()) {
      await sql`INSERT INTO wealth.customers (customer_id, registered_at, channel, city_tier, age_band, gender, risk_level, account_class, kyc_completed_at)
        VALUES (${id}, '2026-09-01T02:00:00Z', ${channel}, 1, '35-44', 'female', 'C2', 'type2', NULL)`.execute(db);
      await sql`INSERT INTO wealth.transactions (txn_id, customer_id, product_id, txn_type, amount, status, channel, occurred_at)
        SELECT ${`t-${id}`}, ${id}, product_id, 'purchase', ${1000 + i}, 'succeeded', 'app', '2026-10-10T03:00:00Z' FROM wealth.products ORDER BY product_id LIMIT 1`.execute(
        db,
      );
    }
    layer = createSemanticLayer(wealthCatalog(), { maxRows: 10_000, subject: 'customer' });
  }, 300_000);
  afterAll(() => database?.dispose());

  it('plants ids whose floor is 1: the exact count has to overrule it', async () => {
    expect(colliding).toHaveLength(K + 2);
    const { rows } = await sql<{
      buckets: string;
    }>`SELECT COUNT(DISTINCT hashtext(customer_id) & 63) AS buckets FROM wealth.customers WHERE channel = 'kiosk_x'`.execute(database.db);
    expect(Number(rows[0]?.buckets)).toBe(1);
  });

  it('answers from the floors when every cell reaches k, with the values an unprotected query gives', async () => {
    const channels = ['app', 'web', 'kiosk_big'];
    const open = await layer.query(database.db, byChannel(channels));
    const analyst = await layer.query(database.db, byChannel(channels), ANALYST);
    expect(analyst.sql).toContain('bit_or');
    expect(analyst.suppressedRows).toEqual([]);
    expect(analyst.rows).toEqual(open.rows);
  });

  it('runs the exact counts when a floor is under k: K + 2 colliding customers shown, K - 1 hidden', async () => {
    const analyst = await layer.query(database.db, byChannel(['kiosk_x', 'kiosk_y', 'kiosk_big']), ANALYST);
    expect(analyst.sql).not.toContain('bit_or');
    expect(analyst.rows.map((r) => r.customer__channel)).toEqual(['kiosk_big', 'kiosk_x', 'kiosk_y']);
    const row = (channel: string) => analyst.rows.find((r) => r.customer__channel === channel);
    expect(Number(row('kiosk_x')?.purchase_amount)).toBe((K + 2) * 1000 + ((K + 2) * (K + 1)) / 2);
    expect(row('kiosk_y')?.purchase_amount).toBeNull();
    expect(analyst.suppressedRows).toEqual([analyst.rows.indexOf(row('kiosk_y') as Record<string, unknown>)]);
  });

  it('gives counted callers exact counts unless each floor is 0 or reaches k', async () => {
    const counted = await layer.queryCounted(database.db, byChannel(), ANALYST, { floors: true });
    const count = (channel: string) => counted.counts[counted.rows.findIndex((r) => r.customer__channel === channel)]?.purchase_amount;
    expect([count('kiosk_x'), count('kiosk_y')]).toEqual([K + 2, K - 1]);
    const large = await layer.queryCounted(database.db, byChannel(['app', 'web']), ANALYST, { floors: true });
    expect(large.sql).toContain('bit_or');
    for (const counts of large.counts) expect(counts.purchase_amount).toBeGreaterThanOrEqual(K);
  });
});
