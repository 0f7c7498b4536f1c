import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { wealthDomain } from '../domains/wealth/index.ts';
import { experimentResults } from '../services/experiment-results.ts';
import { metricPart } from '../services/experiment-metric-sums.ts';
import type { ExperimentInput } from '../services/experiment-definitions.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';

/*
 * Seeded exposures and outcomes with numbers known in advance. Expected statistics were
 * computed independently with SciPy 1.17 (see decisioning/statistics.test.ts for the recipe):
 * - event goal, 10/40 against 24/60: pooled z-test p = 0.1208387, Wald CI of the difference
 *   [-0.0326819, 0.3326819]; SRM of 40/60 at 50/50: chi-square 4, p = 0.0455003.
 * - metric goal: the per-customer purchase amounts (in CNY) below, Welch's test
 *   (ttest_ind(treatment, control, equal_var=False)) p = 0.5128838, difference 64.48718;
 *   CUPED with the pre-exposure amounts: theta 1.1688637, difference 26.79882, p = 0.0417914.
 * - placement_ctr guardrail (RATIO of clicks to impressions) by the delta method with NumPy:
 *   0.2142857 against 0.3673469, difference 0.1530612, p = 0.0279134.
 */

const layer = createSemanticLayer(wealthDomain().catalog, { maxRows: 1000, subject: 'customer' });
const options = { semantic: layer, subject: 'customer' };
const ctlY = [3.1, 0, 4.5, 2.2, 0, 7.9, 1.5, 3.3, 0, 2.8, 5.0, 1.1];
const ctlX = [2.9, 0.4, 4.0, 2.5, 0.1, 6.8, 1.0, 3.0, 0.3, 2.0, 4.4, 1.5];
const trtY = [4.0, 1.2, 5.9, 2.0, 0.5, 8.8, 2.6, 3.9, 0.7, 3.5, 6.1, 2.2, 1.0];
const trtX = [3.0, 1.0, 5.1, 1.7, 0.2, 7.5, 2.2, 3.1, 0.9, 2.7, 5.5, 2.0, 0.6];
/** Placement clicks and impressions (the exposure included) of the same customers in the window: the placement_ctr guardrail. */
const ctlClicks = [0, 1, 0, 2, 1, 0, 0, 3, 1, 0, 1, 0];
const ctlImpressions = [3, 4, 2, 6, 5, 1, 2, 7, 3, 2, 4, 3];
const trtClicks = [1, 2, 0, 3, 1, 1, 0, 4, 2, 1, 1, 0, 2];
const trtImpressions = [3, 5, 2, 6, 4, 2, 2, 8, 3, 3, 4, 2, 5];

/** 2026-03-10 10:00 in Shanghai, plus hours. */
const at = (hours: number) => new Date(Date.UTC(2026, 2, 10, 2) + hours * 3_600_000).toISOString();
let seq = 0;
const event = (customer: string | null, name: string, hours: number, properties: Record<string, string> = {}) => ({
  event_id: `e${++seq}`,
  customer_id: customer,
  event_name: name,
  occurred_at: at(hours),
  channel: 'app',
  properties: JSON.stringify(properties),
});
const exposure = (experiment: string, variant: string, customer: string | null, hours = 0) =>
  event(customer, 'placement_impression', hours, { experiment, variant, decision_id: `d${seq}` });

function seedRows() {
  const events: ReturnType<typeof event>[] = [];
  const customers: string[] = [];
  const txns: { customer: string; hours: number; amount: number }[] = [];
  // Event goal: control 40 exposed, 10 convert in 7 days (4 of them had bought in the 7 days before), 3 convert too late.
  for (let i = 0; i < 40; i++) {
    const c = `ctl${i}`;
    customers.push(c);
    events.push(exposure('copy_test', 'control', c, i % 5), exposure('copy_test', 'control', c, 30));
    if (i < 10) events.push(event(c, 'purchase_success', 48));
    if (i < 4) events.push(event(c, 'purchase_success', -72));
    if (i >= 37) events.push(event(c, 'purchase_success', 7 * 24 + 5));
  }
  // Treatment: 60 exposed, 24 convert (12 of them had bought in the 7 days before), others browse only.
  for (let i = 0; i < 60; i++) {
    const c = `trt${i}`;
    customers.push(c);
    events.push(exposure('copy_test', 'treatment', c, i % 7));
    if (i < 24) events.push(event(c, 'purchase_success', 2 + i));
    if (i >= 12 && i < 24) events.push(event(c, 'purchase_success', -5));
    events.push(event(c, 'app_open', 1));
  }
  // Seen in both arms: left out and counted. Anonymous and other experiments' exposures: ignored.
  for (let i = 0; i < 3; i++) {
    const c = `both${i}`;
    customers.push(c);
    events.push(exposure('copy_test', 'control', c), exposure('copy_test', 'treatment', c, 2), event(c, 'purchase_success', 3));
  }
  events.push(exposure('copy_test', 'treatment', null), exposure('other_test', 'control', 'ctl0'));
  // Metric goal: purchases inside the 7 days after the first exposure (Y) and in the 7 days before (X); one outside both.
  const arms = [
    ['mctl', ctlY, ctlX, 'control', ctlClicks, ctlImpressions],
    ['mtrt', trtY, trtX, 'treatment', trtClicks, trtImpressions],
  ] as const;
  for (const [prefix, ys, xs, variant, clicks, impressions] of arms) {
    ys.forEach((y, i) => {
      const c = `${prefix}${i}`;
      customers.push(c);
      events.push(exposure('amount_test', variant, c, 1));
      for (let k = 1; k < (impressions[i] as number); k++) events.push(event(c, 'placement_impression', 3 + k));
      for (let k = 0; k < (clicks[i] as number); k++) events.push(event(c, 'placement_click', 2 + k));
      // Outside the window: counted by neither side.
      events.push(event(c, 'placement_click', 24 * 10), event(c, 'placement_impression', -24 * 10));
      if (y > 0) txns.push({ customer: c, hours: 50, amount: y * 100 });
      if ((xs[i] as number) > 0) txns.push({ customer: c, hours: -100, amount: (xs[i] as number) * 100 });
      txns.push({ customer: c, hours: 24 * 9, amount: 12345 });
    });
  }
  // SRM: 30 against 70 at 50/50.
  for (let i = 0; i < 100; i++) {
    const c = `srm${i}`;
    customers.push(c);
    events.push(exposure('skewed', i < 30 ? 'a' : 'b', c));
  }
  return { events, customers, txns };
}

async function seed(database: TestDatabase) {
  const { events, customers, txns } = seedRows();
  const db = database.db as never as Kysely<any>;
  await db
    .insertInto('wealth.customers')
    .values(
      customers.map((c) => ({
        customer_id: c,
        registered_at: '2025-01-01T00:00:00Z',
        channel: 'app',
        city_tier: 1,
        age_band: '25-34',
        gender: 'F',
        risk_level: 'C3',
        account_class: 'type1',
      })),
    )
    .execute();
  await db
    .insertInto('wealth.products')
    .values({ product_id: 'p1', name: 'Fund', product_type: 'bond_fund', risk_rating: 'R2', launched_at: '2024-01-01' })
    .execute();
  await db.insertInto('wealth.app_events').values(events).execute();
  await db
    .insertInto('wealth.transactions')
    .values(
      txns.map((t, i) => ({
        txn_id: `t${i}`,
        customer_id: t.customer,
        product_id: 'p1',
        txn_type: 'purchase',
        amount: t.amount,
        status: 'succeeded',
        channel: 'app',
        occurred_at: at(t.hours),
      })),
    )
    .execute();
}

const copyTest: ExperimentInput = {
  key: 'copy_test',
  variants: [
    { key: 'control', weight: 0.5 },
    { key: 'treatment', weight: 0.5 },
  ],
  goal: { event: 'purchase_success', windowDays: 7 },
};

await describeEachEngine('experiment results on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seed(database);
  });
  afterAll(() => database?.dispose());

  it('counts unique exposed customers, conversions in the window, lift, CI, p-value and SRM for an event goal', async () => {
    const r = await experimentResults(database.db, copyTest, options);
    expect(r.multipleExposures).toBe(3);
    const [control, treatment] = r.variants;
    expect(control).toMatchObject({ key: 'control', exposures: 40, conversions: 10, rate: 0.25, suppressed: false });
    expect(treatment).toMatchObject({ key: 'treatment', exposures: 60, conversions: 24, rate: 0.4 });
    expect(treatment?.absoluteLift).toBeCloseTo(0.15, 12);
    expect(treatment?.relativeLift).toBeCloseTo(0.6, 12);
    expect(treatment?.pValue).toBeCloseTo(0.1208387, 6);
    expect(treatment?.ciLow).toBeCloseTo(-0.0326819, 6);
    expect(treatment?.ciHigh).toBeCloseTo(0.3326819, 6);
    expect(r.srm?.chiSquare).toBeCloseTo(4, 10);
    expect(r.srm?.pValue).toBeCloseTo(0.0455003, 6);
    expect(r.srm?.flagged).toBe(false);
    // CUPED on "bought in the 7 days before" (4 of control, 12 of treatment, all of whom convert again):
    // pooled n = 100, sum Y = 34, sum X = sum X² = sum XY = 16, so theta = (16 - 34·16/100) / (16 - 16²/100) = 11/14,
    // and the adjusted lift is 0.15 - 11/14 · (12/60 - 4/40).
    expect(r.cuped[0]?.theta).toBeCloseTo(11 / 14, 12);
    expect(r.cuped[0]?.absoluteLift).toBeCloseTo(0.15 - (11 / 14) * 0.1, 12);
  });

  it('flags a sample-ratio mismatch below p = 0.001', async () => {
    const r = await experimentResults(
      database.db,
      {
        key: 'skewed',
        variants: [
          { key: 'a', weight: 50 },
          { key: 'b', weight: 50 },
        ],
        goal: { event: 'purchase_success', windowDays: 7 },
      },
      options,
    );
    expect(r.variants.map((v) => v.exposures)).toEqual([30, 70]);
    expect(r.srm?.chiSquare).toBeCloseTo(16, 10);
    expect(r.srm?.flagged).toBe(true);
  });

  it("reads a metric goal per customer through the semantic layer: Welch's test and CUPED", async () => {
    const r = await experimentResults(database.db, { ...copyTest, key: 'amount_test', goal: { metric: 'purchase_amount', windowDays: 7 } }, options);
    expect(r.goal).toMatchObject({ kind: 'METRIC', test: 'WELCH_T' });
    const [control, treatment] = r.variants;
    expect(control).toMatchObject({ exposures: 12, conversions: 9 });
    expect(control?.rate).toBeCloseTo((ctlY.reduce((a, b) => a + b) * 100) / 12, 8);
    expect(treatment?.absoluteLift).toBeCloseTo(64.48718, 4);
    expect(treatment?.pValue).toBeCloseTo(0.5128838, 6);
    expect(r.cuped[0]?.theta).toBeCloseTo(1.1688637, 6);
    expect(r.cuped[0]?.absoluteLift).toBeCloseTo(26.79882, 4);
    expect(r.cuped[0]?.pValue).toBeCloseTo(0.0417914, 6);
  });

  it('reads a metric whose rows surely join a customer (a foreign key) without joining the customer table, with the same numbers', async () => {
    const db = database.db as never as Kysely<any>;
    const span = { first: '2026-03-10T02:00:00.000000Z', last: '2026-03-10T03:00:00.000000Z' };
    const partSql = async (metric: string) => (await metricPart(db, layer, 'customer', 0, metric, 7, span)).ctes.compile(db).sql;
    // Transactions have a validated foreign key to the customers: no join; events do not: joined.
    expect(await partSql('purchase_amount')).not.toContain('"wealth"."customers"');
    expect(await partSql('placement_clicks')).toContain('"wealth"."customers"');
    const input = { ...copyTest, key: 'amount_test', goal: { metric: 'purchase_amount', windowDays: 7 }, guardrails: ['purchase_amount', 'placement_ctr'] };
    const trusted = await experimentResults(database.db, input, options);
    const { rows } = await sql<{ name: string }>`SELECT conname AS name FROM pg_constraint
      WHERE contype = 'f' AND conrelid = to_regclass('wealth.transactions') AND confrelid = to_regclass('wealth.customers')`.execute(db);
    const name = rows[0]?.name as string;
    await sql`ALTER TABLE wealth.transactions DROP CONSTRAINT ${sql.id(name)}`.execute(db);
    try {
      // Without the guarantee the customer table is joined again, and the answer is the same.
      expect(await partSql('purchase_amount')).toContain('"wealth"."customers"');
      expect(await experimentResults(database.db, input, options)).toEqual(trusted);
    } finally {
      await sql`ALTER TABLE wealth.transactions ADD CONSTRAINT ${sql.id(name)} FOREIGN KEY (customer_id) REFERENCES wealth.customers (customer_id)`.execute(db);
    }
    expect(await partSql('purchase_amount')).not.toContain('"wealth"."customers"');
  });

  it('reports guardrail metrics with the same statistics: Welch for a SIMPLE metric, the delta method for a RATIO', async () => {
    const r = await experimentResults(database.db, { ...copyTest, key: 'amount_test', guardrails: ['purchase_amount', 'placement_ctr'] }, options);
    const [amount, ctr] = r.guardrails;
    expect(amount).toMatchObject({ metric: 'purchase_amount', test: 'WELCH_T' });
    expect(amount?.variants[1]?.pValue).toBeCloseTo(0.5128838, 6);
    expect(ctr).toMatchObject({ metric: 'placement_ctr', test: 'DELTA_RATIO' });
    expect(ctr?.variants[0]?.mean).toBeCloseTo(0.2142857142857143, 12);
    expect(ctr?.variants[1]?.mean).toBeCloseTo(0.3673469387755102, 12);
    expect(ctr?.variants[1]?.absoluteLift).toBeCloseTo(0.15306122448979595, 12);
    expect(ctr?.variants[1]?.pValue).toBeCloseTo(0.027913406147025057, 9);
    expect(ctr?.variants[1]?.ciLow).toBeCloseTo(0.016607133995603457, 9);
  });

  it('suppresses variants under the small-cell threshold and the SRM that would reveal them', async () => {
    // k = 20: the control's 10 conversions are hidden, and so is every comparison with it.
    const r = await experimentResults(database.db, copyTest, { ...options, minSubjects: 20 });
    expect(r.variants[0]).toMatchObject({ exposures: 40, conversions: null, rate: null, suppressed: true });
    expect(r.variants[1]).toMatchObject({ exposures: 60, conversions: 24, rate: 0.4, suppressed: false });
    expect(r.variants[1]?.pValue).toBeUndefined();
    expect(r.cuped[0]?.theta).toBeNull();
    expect(r.srm?.chiSquare).toBeCloseTo(4, 10);
    expect(r.multipleExposures).toBeNull();
    // k = 50: the control's 40 exposures are hidden, and the SRM check that would reveal them.
    const hidden = await experimentResults(database.db, copyTest, { ...options, minSubjects: 50 });
    expect(hidden.variants[0]).toMatchObject({ exposures: null, conversions: null, rate: null, suppressed: true });
    expect(hidden.srm).toBeNull();
  });

  it('refuses a metric that does not add up per customer, and bad definitions, with coded errors', async () => {
    await expect(experimentResults(database.db, { ...copyTest, goal: { metric: 'purchase_conversion_rate', windowDays: 7 } }, options)).rejects.toMatchObject({
      code: 'INVALID_QUERY',
    });
    await expect(experimentResults(database.db, { ...copyTest, goal: { metric: 'nope', windowDays: 7 } }, options)).rejects.toMatchObject({
      code: 'UNKNOWN_MEMBER',
    });
    await expect(experimentResults(database.db, { ...copyTest, goal: { event: 'x', windowDays: 0 } }, options)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    await expect(experimentResults(database.db, { ...copyTest, variants: [{ key: 'a', weight: 1 }] }, options)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });

  it('answers zero exposures for an experiment nobody saw yet', async () => {
    const r = await experimentResults(database.db, { ...copyTest, key: 'not_started' }, options);
    expect(r.variants.map((v) => v.exposures)).toEqual([0, 0]);
    expect(r.srm).toBeNull();
    const m = await experimentResults(database.db, { ...copyTest, key: 'not_started', goal: { metric: 'purchase_amount', windowDays: 7 } }, options);
    expect(m.variants.map((v) => v.exposures)).toEqual([0, 0]);
  });
});
