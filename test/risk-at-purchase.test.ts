import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { createSemanticLayer, type SemanticLayer } from '../modeling/semantic-layer.ts';
import { createApp } from '../api/app.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { createApiKey } from '../store/api-keys.ts';

/**
 * The bundled domain's slowly changing dimension: `risk_assessment.risk_level` is the risk
 * tolerance a customer had been assessed at when each purchase was placed (the assessment
 * in effect on the purchase's Shanghai day), where `customer.risk_level` is today's level.
 * Both the demo history and the metric are checked against plain SQL.
 */

const CUSTOMERS = 800;
const SEED = 5;

/** Rows as `[month, level, amount]`, amounts to the cent, in a fixed order. */
function rowsOf(rows: readonly Record<string, unknown>[], level: string): [string, string | null, string][] {
  return rows
    .map((r): [string, string | null, string] => [
      String(r.metric_time__month).slice(0, 10),
      (r[level] as string | null) ?? null,
      Number(r.purchase_amount).toFixed(2),
    ])
    .sort((a, b) => `${a[0]}|${a[1]}`.localeCompare(`${b[0]}|${b[1]}`));
}

await describeEachEngine('risk level at purchase time on %s', (engine) => {
  let database: TestDatabase;
  let layer: SemanticLayer;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: CUSTOMERS, seed: SEED });
    layer = createSemanticLayer(wealthCatalog(), { maxRows: 10_000 });
  }, 240_000);
  afterAll(() => database?.dispose());

  it('seeds one history per customer: contiguous, from registration, ending in the level shown today', async () => {
    const { rows } = await sql<{ customers: number; reassessed: number; bad_open: number; gaps: number; bad_start: number }>`
      WITH h AS (
        SELECT r.*, LEAD(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from) AS next_from,
               ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY valid_from) AS n
        FROM wealth.risk_assessments r)
      SELECT
        (SELECT count(DISTINCT customer_id) FROM h)::int AS customers,
        (SELECT count(DISTINCT customer_id) FROM h WHERE n > 1)::int AS reassessed,
        (SELECT count(*) FROM wealth.customers c WHERE 1 <> (SELECT count(*) FROM h WHERE h.customer_id = c.customer_id AND h.valid_to IS NULL
                                                        AND h.risk_level = c.risk_level))::int AS bad_open,
        (SELECT count(*) FROM h WHERE valid_to IS DISTINCT FROM next_from OR valid_to <= valid_from)::int AS gaps,
        (SELECT count(*) FROM h JOIN wealth.customers c USING (customer_id)
          WHERE h.n = 1 AND h.valid_from <> (c.registered_at AT TIME ZONE 'Asia/Shanghai')::date)::int AS bad_start`.execute(database.db);
    const [summary] = rows;
    expect(summary).toMatchObject({ customers: CUSTOMERS, bad_open: 0, gaps: 0, bad_start: 0 });
    expect(summary?.reassessed).toBeGreaterThan(CUSTOMERS / 5);
  });

  it('slices purchase_amount by the level in effect on the day of each purchase, as hand-written SQL does', async () => {
    const query = {
      metrics: ['purchase_amount'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' as const }, { dimension: 'risk_assessment.risk_level' }],
    };
    const ours = rowsOf((await layer.query(database.db, query)).rows, 'risk_assessment__risk_level');
    const { rows } = await sql<{ metric_time__month: string; risk_level: string | null; purchase_amount: string }>`
      SELECT to_char(date_trunc('month', t.occurred_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD') AS metric_time__month,
             r.risk_level, SUM(t.amount) AS purchase_amount
      FROM wealth.transactions t
      LEFT JOIN wealth.risk_assessments r ON r.customer_id = t.customer_id
        AND (t.occurred_at AT TIME ZONE 'Asia/Shanghai')::date >= r.valid_from
        AND (r.valid_to IS NULL OR (t.occurred_at AT TIME ZONE 'Asia/Shanghai')::date < r.valid_to)
      WHERE t.txn_type = 'purchase' AND t.status = 'succeeded'
      GROUP BY 1, 2`.execute(database.db);
    const reference = rowsOf(
      rows.map((r) => ({ ...r, risk_assessment__risk_level: r.risk_level })),
      'risk_assessment__risk_level',
    );
    expect(ours.length).toBeGreaterThan(20);
    expect(ours).toEqual(reference);
    // Every purchase is counted once, under some level: the slices add up to the total.
    const [total] = (await layer.query(database.db, { metrics: ['purchase_amount'] })).rows;
    expect(ours.reduce((sum, r) => sum + Number(r[2]), 0)).toBeCloseTo(Number(total?.purchase_amount), 2);
    expect(ours.some((r) => r[1] === null)).toBe(false);

    // Reassessments move purchases between levels: the slices differ from today's level.
    const today = rowsOf(
      (await layer.query(database.db, { ...query, groupBy: [query.groupBy[0] as (typeof query.groupBy)[0], { dimension: 'customer.risk_level' }] })).rows,
      'customer__risk_level',
    );
    expect(today).not.toEqual(ours);
  });

  it('refuses the level at purchase time without metric_time, and says how to ask', async () => {
    await expect(layer.query(database.db, { metrics: ['purchase_amount'], groupBy: [{ dimension: 'risk_assessment.risk_level' }] })).rejects.toMatchObject({
      code: 'INVALID_QUERY',
      details: { reason: 'SCD_REQUIRES_METRIC_TIME' },
    });
    // As a filter it needs no metric_time: purchases placed while the customer was assessed C5.
    const [c5] = (
      await layer.query(database.db, {
        metrics: ['purchase_amount'],
        where: { kind: 'compare', dimension: 'risk_assessment.risk_level', op: 'EQ', values: ['C5'] },
      })
    ).rows;
    const { rows } = await sql<{ amount: string }>`
      SELECT SUM(t.amount) AS amount FROM wealth.transactions t JOIN wealth.risk_assessments r ON r.customer_id = t.customer_id
        AND (t.occurred_at AT TIME ZONE 'Asia/Shanghai')::date >= r.valid_from
        AND (r.valid_to IS NULL OR (t.occurred_at AT TIME ZONE 'Asia/Shanghai')::date < r.valid_to)
      WHERE t.txn_type = 'purchase' AND t.status = 'succeeded' AND r.risk_level = 'C5'`.execute(database.db);
    expect(Number(c5?.purchase_amount).toFixed(2)).toBe(Number(rows[0]?.amount).toFixed(2));
  });

  it('answers the refusal through GraphQL with its code and reason, and the query with metric_time', async () => {
    const app = await createApp(database, bundledDomain(), { dev: true, maxBodyBytes: 1_000_000 });
    try {
      const url = `http://127.0.0.1:${await app.listen(0)}/graphql`;
      const token = await createApiKey(database.db, 'risk-analyst', 'analyst');
      const ask = async (groupBy: unknown[]) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({
            query: 'query($q: MetricQueryInput!) { metrics(query: $q) { rows } }',
            variables: { q: { metrics: ['purchase_amount'], groupBy } },
          }),
        });
        return (await response.json()) as {
          data?: { metrics: { rows: unknown[] } } | null;
          errors?: { message: string; extensions?: Record<string, unknown> }[];
        };
      };
      const refused = await ask([{ dimension: 'risk_assessment.risk_level' }]);
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'INVALID_QUERY',
        reason: 'SCD_REQUIRES_METRIC_TIME',
        dimensions: ['risk_assessment.risk_level'],
      });
      expect(refused.errors?.[0]?.message).not.toMatch(/select|wealth\./i);
      const answered = await ask([{ dimension: 'metric_time', grain: 'YEAR' }, { dimension: 'risk_assessment.risk_level' }]);
      expect(answered.errors).toBeUndefined();
      expect(answered.data?.metrics.rows.length).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});
