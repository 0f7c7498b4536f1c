import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { lastCommonDataDate } from './support/data-dates.ts';
import type { TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient, type GqlError, type GqlResponse } from './support/graphql-client.ts';

/**
 * API.md's personalization fields end to end over HTTP: `customer` and `customers` serve
 * the published tags of the current profile snapshot, typed as JSON scalars and equal to
 * DOMAIN.md's definitions computed in plain SQL; access is by role; and a refresh swaps
 * the snapshot atomically while apps keep reading.
 */

const CUSTOMERS = 800;
const SEED = 7;
const CODE_TAGS = [
  'aum_amount',
  'aum_tier',
  'dormant_90d',
  'fund_buyer_30d',
  'new_customer_30d',
  'preferred_product_type',
  'purchase_amount_90d',
  'risk_level',
];
const PUBLIC_FUNDS = ['bond_fund', 'equity_fund', 'mixed_fund'];

interface TagValue {
  key: string;
  value: unknown;
}
interface CustomerProfile {
  id: string;
  tags: TagValue[];
  audiences: string[];
}

const ONE = `query One($id: String!) { customer(id: $id) { id tags { key value } tag(key: "aum_tier") audiences } }`;
const MANY = `query Many($ids: [String!]!) { customers(ids: $ids) { id tags { key value } audiences } }`;
const MATERIALIZE = `mutation Materialize($asOf: String) { materializeTags(asOf: $asOf) { runId asOf customers status } }`;
const CREATE = `mutation Create($input: CreateTagInput!) { createTag(input: $input) { key version status } }`;
const UPDATE = `mutation Update($key: String!, $v: Int!, $input: UpdateTagInput!) { updateTag(key: $key, expectedVersion: $v, input: $input) { key version status } }`;
const SUBMIT = `mutation Submit($key: String!, $v: Int!) { submitTag(key: $key, expectedVersion: $v) { status } }`;
const APPROVE = `mutation Approve($key: String!, $v: Int!) { approveTag(key: $key, expectedVersion: $v) { status version } }`;

const customerId = (n: number) => `c${String(n).padStart(6, '0')}`;
const ALL_IDS = Array.from({ length: CUSTOMERS }, (_, i) => customerId(i + 1));

function aumTier(aum: number): string {
  if (aum >= 6_000_000) return 'uhnw';
  if (aum >= 500_000) return 'hnw';
  if (aum >= 10_000) return 'affluent';
  return 'mass';
}

const valueOf = (profile: CustomerProfile, key: string): unknown => profile.tags.find((t) => t.key === key)?.value;

await describeEachEngine('personalization fields over HTTP on %s', (engine) => {
  type Key = 'operator' | 'steward' | 'approver' | 'app' | 'analyst';
  let server: DemoServer<Key>;
  let database: TestDatabase;
  let base: string;
  const keys = {} as DemoServer<Key>['keys'];

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: CUSTOMERS,
      seed: SEED,
      // This suite swaps snapshots months apart on purpose; the drift guard has its own suite.
      app: { materializeMaxDrift: 1 },
      keys: {
        operator: ['ops-olga', 'operator'],
        steward: ['steward-sam', 'steward'],
        approver: ['approver-ann', 'approver'],
        app: ['mobile-app', 'app'],
        analyst: ['analyst-al', 'analyst'],
      },
    });
    ({ database, base } = server);
    Object.assign(keys, server.keys);
  });
  afterAll(() => server?.close());

  const { post, ok } = graphqlClient(() => base);
  const refusedWith = async (code: string, token: string | null, query: string, variables?: Record<string, unknown>) => {
    const body = await post(token, query, variables);
    expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe(code);
    expect(Object.values(body.data ?? {}).every((value) => value === null)).toBe(true);
    return body.errors?.[0] as GqlError;
  };
  const materialize = async (asOf?: string) =>
    (await ok(keys.operator, MATERIALIZE, asOf ? { asOf } : {})).materializeTags as { runId: number; asOf: string; customers: number; status: string };
  const profiles = async (ids: readonly string[], token = keys.app): Promise<(CustomerProfile | null)[]> => (await ok(token, MANY, { ids })).customers;
  const publishSteps = async (key: string, version: number) => {
    expect((await ok(keys.steward, SUBMIT, { key, v: version })).submitTag.status).toBe('IN_REVIEW');
    expect((await ok(keys.approver, APPROVE, { key, v: version })).approveTag.status).toBe('PUBLISHED');
  };

  /** DOMAIN.md's core tags (and a 365-day purchase sum) for every customer, in plain SQL. */
  const expectedProfiles = async (asOf: string) => {
    const { rows } = await sql<{
      id: string;
      risk_level: string;
      aum: string | null;
      fund_buyer: boolean;
      dormant: boolean;
      new_customer: boolean;
      spent_365: string | null;
      preferred: string | null;
    }>`
      WITH purchases AS (
        SELECT t.customer_id, p.product_type, t.amount, (t.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day
        FROM wealth.transactions t JOIN wealth.products p ON p.product_id = t.product_id
        WHERE t.txn_type = 'purchase' AND t.status = 'succeeded'
      ), aum AS (
        SELECT customer_id, SUM(market_value) AS v FROM wealth.holdings_daily WHERE as_of = ${asOf}::date GROUP BY 1
      ), fund AS (
        SELECT DISTINCT customer_id FROM purchases
        WHERE product_type IN (${sql.join(PUBLIC_FUNDS)}) AND day BETWEEN ${asOf}::date - 29 AND ${asOf}::date
      ), active AS (
        SELECT DISTINCT customer_id FROM wealth.app_events
        WHERE customer_id IS NOT NULL AND (occurred_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN ${asOf}::date - 89 AND ${asOf}::date
      ), by_type AS (
        SELECT customer_id, product_type, SUM(amount) AS v FROM purchases WHERE day BETWEEN ${asOf}::date - 364 AND ${asOf}::date GROUP BY 1, 2
      ), spent AS (
        SELECT customer_id, SUM(v) AS v FROM by_type GROUP BY 1
      ), preferred AS (
        SELECT DISTINCT ON (customer_id) customer_id, product_type FROM by_type ORDER BY customer_id, v DESC, product_type COLLATE "C"
      )
      SELECT c.customer_id AS id, c.risk_level, CAST(aum.v AS text) AS aum, fund.customer_id IS NOT NULL AS fund_buyer,
        active.customer_id IS NULL AS dormant,
        (c.registered_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN ${asOf}::date - 29 AND ${asOf}::date AS new_customer,
        CAST(spent.v AS text) AS spent_365, preferred.product_type AS preferred
      FROM wealth.customers c
        LEFT JOIN aum ON aum.customer_id = c.customer_id LEFT JOIN fund ON fund.customer_id = c.customer_id
        LEFT JOIN active ON active.customer_id = c.customer_id LEFT JOIN spent ON spent.customer_id = c.customer_id
        LEFT JOIN preferred ON preferred.customer_id = c.customer_id
      ORDER BY c.customer_id`.execute(database.db);
    return new Map(rows.map((r) => [r.id, r]));
  };

  it('serves published tags only, as typed JSON scalars equal to DOMAIN.md computed in SQL', async () => {
    // A steward tag still in draft, and a numeric one that is published.
    await ok(keys.steward, CREATE, {
      input: {
        key: 'high_risk_appetite',
        kind: 'BOOLEAN',
        description: 'C4 or C5',
        rule: { dimension: 'customer.risk_level', op: 'IN', values: ['C4', 'C5'] },
      },
    });
    await ok(keys.steward, CREATE, {
      input: {
        key: 'purchase_amount_365d',
        kind: 'NUMERIC',
        description: 'Purchases in the last 365 days',
        aggregate: { measure: 'transaction.purchase_amount', window: { days: 365 } },
      },
    });
    await publishSteps('purchase_amount_365d', 1);

    const run = await materialize();
    expect(run).toMatchObject({ asOf: await lastCommonDataDate(database.db), customers: CUSTOMERS });

    const one = (await ok(keys.app, ONE, { id: 'c000001' })).customer;
    expect(one.id).toBe('c000001');
    expect((one.tags as TagValue[]).map((t) => t.key)).toEqual([...CODE_TAGS, 'purchase_amount_365d'].sort());
    expect(typeof one.tag).toBe('string');
    expect(one.tag).toBe(valueOf(one, 'aum_tier'));
    expect(typeof valueOf(one, 'fund_buyer_30d')).toBe('boolean');
    expect(typeof valueOf(one, 'dormant_90d')).toBe('boolean');
    expect(typeof valueOf(one, 'risk_level')).toBe('string');
    expect(one.audiences).toEqual([]);

    const expected = await expectedProfiles(run.asOf);
    const all = await profiles(ALL_IDS);
    expect(all).toHaveLength(CUSTOMERS);
    let spenders = 0;
    for (const [i, profile] of all.entries()) {
      const id = ALL_IDS[i] as string;
      const want = expected.get(id);
      expect(profile?.id).toBe(id);
      if (!profile || !want) throw new Error(`no profile or expectation for ${id}`);
      const got = Object.fromEntries(profile.tags.map((t) => [t.key, t.value]));
      expect(Object.keys(got).sort(), id).toEqual([...CODE_TAGS, 'purchase_amount_365d'].sort());
      expect({
        id,
        aum_tier: got.aum_tier,
        fund_buyer_30d: got.fund_buyer_30d,
        dormant_90d: got.dormant_90d,
        new_customer_30d: got.new_customer_30d,
        risk_level: got.risk_level,
        preferred_product_type: got.preferred_product_type,
      }).toEqual({
        id,
        aum_tier: aumTier(Number(want.aum ?? 0)),
        fund_buyer_30d: want.fund_buyer,
        dormant_90d: want.dormant,
        new_customer_30d: want.new_customer,
        risk_level: want.risk_level,
        preferred_product_type: want.preferred,
      });
      // aum_amount: the amount aum_tier cuts, null without holdings on the as-of date.
      if (want.aum === null) expect(got.aum_amount, id).toBeNull();
      else expect(got.aum_amount as number, id).toBeCloseTo(Number(want.aum), 2);
      if (want.spent_365 === null) {
        expect([null, 0], id).toContain(got.purchase_amount_365d);
      } else {
        spenders += 1;
        expect(typeof got.purchase_amount_365d, id).toBe('number');
        expect(got.purchase_amount_365d as number, id).toBeCloseTo(Number(want.spent_365), 2);
      }
    }
    expect(spenders).toBeGreaterThan(10);
    // The seeded data exercises every value type: true and false, several tiers.
    expect(new Set(all.map((p) => valueOf(p as CustomerProfile, 'dormant_90d')))).toEqual(new Set([true, false]));
    expect(new Set(all.map((p) => valueOf(p as CustomerProfile, 'aum_tier'))).size).toBeGreaterThan(1);
  });

  it('shows a steward tag once it is approved and re-materialized, and keeps serving the published version of an edited tag', async () => {
    const before = (await ok(keys.app, ONE, { id: 'c000001' })).customer;
    expect((before.tags as TagValue[]).some((t) => t.key === 'high_risk_appetite')).toBe(false);
    await publishSteps('high_risk_appetite', 1);

    // An edit goes back to draft; until it is approved, the published 365-day sum keeps serving.
    const edited = (
      await ok(keys.steward, UPDATE, {
        key: 'purchase_amount_365d',
        v: 1,
        input: { aggregate: { measure: 'transaction.purchase_amount', window: { days: 7 } } },
      })
    ).updateTag;
    expect(edited).toMatchObject({ version: 2, status: 'DRAFT' });

    const run = await materialize();
    const expected = await expectedProfiles(run.asOf);
    const all = await profiles(ALL_IDS);
    let highRisk = 0;
    for (const [i, profile] of all.entries()) {
      const id = ALL_IDS[i] as string;
      const want = expected.get(id);
      if (!profile || !want) throw new Error(`no profile or expectation for ${id}`);
      const value = valueOf(profile, 'high_risk_appetite');
      expect(typeof value, id).toBe('boolean');
      expect(value, id).toBe(want.risk_level === 'C4' || want.risk_level === 'C5');
      if (value) highRisk += 1;
      const spent = valueOf(profile, 'purchase_amount_365d');
      if (want.spent_365 === null) expect([null, 0], id).toContain(spent);
      else expect(spent as number, id).toBeCloseTo(Number(want.spent_365), 2);
    }
    expect(highRisk).toBeGreaterThan(0);
    expect(highRisk).toBeLessThan(CUSTOMERS);
  });

  it('answers customers(ids) in the order asked, null for unknown ids, equal to single lookups', async () => {
    const ids = ['c000005', 'nobody', 'c000002', 'c000005', customerId(CUSTOMERS), customerId(CUSTOMERS + 1)];
    const many = await profiles(ids);
    expect(many.map((p) => p?.id ?? null)).toEqual(['c000005', null, 'c000002', 'c000005', customerId(CUSTOMERS), null]);
    for (const [i, id] of ids.entries()) {
      const single = (await ok(keys.app, `query One($id: String!) { customer(id: $id) { id tags { key value } audiences } }`, { id })).customer;
      expect(many[i], id).toEqual(single);
    }
    expect(await profiles([])).toEqual([]);

    const thousand = await profiles(Array.from({ length: 1000 }, (_, i) => customerId(i + 1)));
    expect(thousand).toHaveLength(1000);
    expect(thousand.filter((p) => p === null)).toHaveLength(1000 - CUSTOMERS);
    expect(thousand[CUSTOMERS - 1]?.id).toBe(customerId(CUSTOMERS));
    const tooMany = await refusedWith('BAD_USER_INPUT', keys.app, MANY, { ids: Array.from({ length: 1001 }, (_, i) => customerId(i + 1)) });
    expect(tooMany.message).toMatch(/1,?000/);
  });

  it('lets app keys read profiles and refuses analysts, anonymous callers and unknown keys', async () => {
    expect((await ok(keys.app, ONE, { id: 'c000003' })).customer.id).toBe('c000003');
    expect((await ok(keys.operator, ONE, { id: 'c000003' })).customer.id).toBe('c000003');
    await refusedWith('FORBIDDEN', keys.analyst, ONE, { id: 'c000003' });
    await refusedWith('FORBIDDEN', keys.analyst, MANY, { ids: ['c000003'] });
    await refusedWith('UNAUTHENTICATED', null, ONE, { id: 'c000003' });
    await refusedWith('UNAUTHENTICATED', null, MANY, { ids: ['c000003'] });
    await refusedWith('UNAUTHENTICATED', 'sk_made_up_key_000000000000', ONE, { id: 'c000003' });
    // Refreshing profiles is an operator's job, not an app's.
    const runs = async () => Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.tag_runs`.execute(database.db)).rows[0]?.n);
    const before = await runs();
    await refusedWith('FORBIDDEN', keys.app, MATERIALIZE, {});
    await refusedWith('UNAUTHENTICATED', null, MATERIALIZE, {});
    expect(await runs()).toBe(before);
  });

  it('swaps the snapshot atomically: every read during a refresh is wholly old or wholly new', async () => {
    // A steward tag whose values move with the as-of date, published, then materialized as of mid-year.
    await ok(keys.steward, CREATE, {
      input: {
        key: 'recently_active',
        kind: 'BOOLEAN',
        description: 'Events in the last 7 days',
        rule: { aggregate: { measure: 'app_event.events', window: { days: 7 } }, op: 'GT', values: ['0'] },
      },
    });
    await publishSteps('recently_active', 1);
    const oldRun = await materialize('2026-06-30');
    expect(oldRun).toMatchObject({ asOf: '2026-06-30', status: 'PUBLISHED' });

    const ids = ALL_IDS.slice(0, 400);
    const oldProfiles = await profiles(ids);
    expect(await profiles(ids)).toEqual(oldProfiles);

    // Change the definition (published as version 2), then refresh as of the default (last) date while apps read.
    const lastDay = await lastCommonDataDate(database.db);
    await ok(keys.steward, UPDATE, {
      key: 'recently_active',
      v: 1,
      input: { rule: { aggregate: { measure: 'app_event.events', window: { days: 3 } }, op: 'GT', values: ['1'] } },
    });
    await publishSteps('recently_active', 2);

    let running = true;
    const refresh = post(keys.operator, MATERIALIZE, { asOf: lastDay }).finally(() => {
      running = false;
    });
    const reads: { response: GqlResponse; completedWhileRunning: boolean }[] = [];
    const reader = async () => {
      while (running) {
        const response = await post(keys.app, MANY, { ids });
        reads.push({ response, completedWhileRunning: running });
      }
    };
    const [refreshed] = await Promise.all([refresh, ...Array.from({ length: 6 }, reader)]);
    expect(refreshed.errors, JSON.stringify(refreshed.errors)).toBeUndefined();
    expect(refreshed.data?.materializeTags).toMatchObject({ asOf: lastDay, status: 'PUBLISHED' });
    const newProfiles = await profiles(ids);

    // The two snapshots differ for many customers, in the steward tag too, so a mix would show.
    const changed = ids.filter((_, i) => JSON.stringify(oldProfiles[i]) !== JSON.stringify(newProfiles[i]));
    expect(changed.length).toBeGreaterThan(20);
    const stewardChanged = ids.filter(
      (_, i) => valueOf(oldProfiles[i] as CustomerProfile, 'recently_active') !== valueOf(newProfiles[i] as CustomerProfile, 'recently_active'),
    );
    expect(stewardChanged.length).toBeGreaterThan(5);
    expect(newProfiles.every((p) => typeof valueOf(p as CustomerProfile, 'recently_active') === 'boolean')).toBe(true);

    expect(reads.length).toBeGreaterThan(0);
    let sawOld = 0;
    let sawNew = 0;
    for (const { response, completedWhileRunning } of reads) {
      expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
      const got = response.data?.customers as (CustomerProfile | null)[];
      const isOld = JSON.stringify(got) === JSON.stringify(oldProfiles);
      const isNew = JSON.stringify(got) === JSON.stringify(newProfiles);
      if (!isOld && !isNew) {
        const fromOld = ids.filter(
          (_, i) => JSON.stringify(got[i]) === JSON.stringify(oldProfiles[i]) && JSON.stringify(got[i]) !== JSON.stringify(newProfiles[i]),
        );
        const fromNew = ids.filter(
          (_, i) => JSON.stringify(got[i]) === JSON.stringify(newProfiles[i]) && JSON.stringify(got[i]) !== JSON.stringify(oldProfiles[i]),
        );
        const neither = ids.filter(
          (_, i) => JSON.stringify(got[i]) !== JSON.stringify(newProfiles[i]) && JSON.stringify(got[i]) !== JSON.stringify(oldProfiles[i]),
        );
        throw new Error(
          `a read mixed snapshots: ${fromOld.length} customers old, ${fromNew.length} new, ${neither.length} neither (e.g. ${[...neither, ...fromOld].slice(0, 3).join(', ')})`,
        );
      }
      if (isOld && completedWhileRunning) sawOld += 1;
      if (isNew) sawNew += 1;
    }
    // On PostgreSQL reads run beside the refresh on other connections: some must have been
    // answered from the old snapshot while it ran (PGlite's one connection queues them instead).
    if (engine === 'postgres') expect(sawOld).toBeGreaterThan(0);
    expect(sawOld + sawNew).toBe(reads.length);
  });
});
