import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createApp, type App } from '../api/app.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { createApiKey } from '../store/api-keys.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

await describeEachEngine('tags as metric dimensions on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let post: (query: string, token?: string) => Promise<{ data?: any; errors?: { message: string; extensions: { code: string } }[] }>;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 600, seed: 13 });
    await materializeDomain(database, bundledDomain());
    for (const role of ['steward', 'approver', 'operator', 'admin'] as const) keys[role] = await createApiKey(database.db, `${role}-1`, role);
    app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 1_000_000 });
    const base = `http://127.0.0.1:${await app.listen(0)}`;
    post = async (query, token) => {
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        // Exact numbers: an admin sees every cell (analysts' small cells are suppressed).
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? keys.admin}` },
        body: JSON.stringify({ query }),
      });
      return response.json() as never;
    };
  });
  afterAll(async () => {
    await app.close();
    await database.dispose();
  });

  it('slices purchase_amount by aum_tier exactly as a join to the profile snapshot does', async () => {
    const result = await post(`{ metrics(query: { metrics: ["purchase_amount"], groupBy: [{ dimension: "customer.tag.aum_tier" }] }) { rows } }`);
    expect(result.errors).toBeUndefined();
    const { rows } = await sql<{ tier: string | null; amount: string }>`
      SELECT p.tags ->> 'aum_tier' AS tier, SUM(t.amount) AS amount FROM wealth.transactions t
      LEFT JOIN strata.customer_profiles p ON p.customer_id = t.customer_id AND p.run_id = (SELECT run_id FROM strata.profile_snapshot)
      WHERE t.txn_type = 'purchase' AND t.status = 'succeeded' GROUP BY 1 ORDER BY 1`.execute(database.db);
    expect(rows.length).toBeGreaterThan(1);
    expect(result.data.metrics.rows).toEqual(rows.map((r) => ({ customer__tag__aum_tier: r.tier, purchase_amount: Number(r.amount) })));
  });

  it('filters by a boolean tag with its type', async () => {
    const buyers = await post(
      `{ metrics(query: { metrics: ["purchasers"], where: { dimension: "customer.tag.fund_buyer_30d", op: EQ, values: ["true"] } }) { rows } }`,
    );
    const { rows } = await sql<{ n: number }>`SELECT COUNT(DISTINCT t.customer_id) AS n FROM wealth.transactions t
      JOIN strata.customer_profiles p ON p.customer_id = t.customer_id AND p.run_id = (SELECT run_id FROM strata.profile_snapshot)
      WHERE t.txn_type = 'purchase' AND t.status = 'succeeded' AND (p.tags ->> 'fund_buyer_30d')::boolean`.execute(database.db);
    expect(buyers.data.metrics.rows).toEqual([{ purchasers: Number(rows[0]?.n) }]);
    const bad = await post(
      `{ metrics(query: { metrics: ["purchasers"], where: { dimension: "customer.tag.fund_buyer_30d", op: EQ, values: ["maybe"] } }) { rows } }`,
    );
    expect(bad.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('offers a steward tag as a dimension once it is published, and not before', async () => {
    const query = `{ metrics(query: { metrics: ["new_customers"], groupBy: [{ dimension: "customer.tag.young" }] }) { rows } }`;
    const create = await post(
      `mutation { createTag(input: { key: "young", kind: BOOLEAN, description: "Under 35", rule: { dimension: "customer.age_band", op: IN, values: ["18-24", "25-34"] } }) { version } }`,
      keys.steward,
    );
    expect(create.errors).toBeUndefined();
    expect((await post(query)).errors?.[0]?.extensions.code).toBe('UNKNOWN_MEMBER');
    await post(`mutation { submitTag(key: "young", expectedVersion: 1) { status } }`, keys.steward);
    const approved = await post(`mutation { approveTag(key: "young", expectedVersion: 1) { status } }`, keys.approver);
    expect(approved.data.approveTag.status).toBe('PUBLISHED');
    await post(`mutation { materializeTags { runId } }`, keys.operator);
    const result = await post(query);
    expect(result.errors).toBeUndefined();
    const young = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM wealth.customers WHERE age_band IN ('18-24', '25-34')`.execute(database.db);
    expect(result.data.metrics.rows).toEqual([
      { customer__tag__young: false, new_customers: 600 - Number(young.rows[0]?.n) },
      { customer__tag__young: true, new_customers: Number(young.rows[0]?.n) },
    ]);
  });
});
