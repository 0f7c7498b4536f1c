import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient, type GqlResponse } from './support/graphql-client.ts';
import { WEALTH_CORE_METRICS } from '../domains/wealth/metrics.ts';

/**
 * Classification and small-cell protection, as an analyst (no personal clearance) meets
 * them: personal members are refused wherever a query could single a customer out, and
 * every aggregate counting fewer than k = 10 customers is hidden, including through the
 * totals of the same answer. Planted groups of exactly k-1, k and k+1 customers (new
 * channels of their own) put the threshold's edges in the data.
 */

const K = 10;
const GROUPS = { kiosk_a: K - 1, kiosk_b: K, kiosk_c: K + 1 } as const;
const RISK_OF = { kiosk_a: 'C1', kiosk_b: 'C2', kiosk_c: 'C3' } as const;
type Who = 'analyst' | 'steward' | 'operator' | 'admin' | 'app';

const METRICS = `query($q: MetricQueryInput!) { metrics(query: $q) { rows suppressedRows } }`;

await describeEachEngine('privacy on %s', (engine) => {
  let server: DemoServer<Who>;
  const { post, ok } = graphqlClient(() => server.base);
  const refused = async (token: string, query: string, variables?: Record<string, unknown>): Promise<GqlResponse> => {
    const body = await post(token, query, variables);
    expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe('FORBIDDEN');
    expect(Object.values(body.data ?? {}).every((v) => v === null)).toBe(true);
    return body;
  };

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 300,
      seed: 21,
      keys: {
        analyst: ['priv-analyst', 'analyst'],
        steward: ['priv-steward', 'steward'],
        operator: ['priv-operator', 'operator'],
        admin: ['priv-admin', 'admin'],
        app: ['priv-app', 'app'],
      },
    });
    const { db } = server.database;
    for (const [channel, size] of Object.entries(GROUPS)) {
      for (let i = 0; i < size; i += 1) {
        const id = `k${channel.slice(-1)}${String(i).padStart(3, '0')}`;
        await sql`INSERT INTO wealth.customers (customer_id, registered_at, channel, city_tier, age_band, gender, risk_level, account_class, kyc_completed_at)
          VALUES (${id}, '2026-10-01T02:00:00Z', ${channel}, 1, '35-44', 'female', ${RISK_OF[channel as keyof typeof RISK_OF]}, 'type2', NULL)`.execute(db);
        await sql`INSERT INTO wealth.transactions (txn_id, customer_id, product_id, txn_type, amount, status, channel, occurred_at)
          SELECT ${`t-${id}`}, ${id}, product_id, 'purchase', ${1000 + i}, 'succeeded', 'app', '2026-10-10T03:00:00Z' FROM wealth.products ORDER BY product_id LIMIT 1`.execute(
          db,
        );
      }
    }
    await ok(server.keys.admin, 'mutation { materializeTags { runId } }');
    for (const channel of Object.keys(GROUPS)) {
      await ok(server.keys.operator, 'mutation($i: CreateAudienceInput!) { createAudience(input: $i) { key } }', {
        i: { key: `aud_${channel}`, rule: { dimension: 'customer.channel', op: 'EQ', values: [channel] } },
      });
    }
    await ok(server.keys.operator, 'mutation($i: CreateAudienceInput!) { createAudience(input: $i) { key } }', {
      i: { key: 'kiosks', rule: { dimension: 'customer.channel', op: 'IN', values: Object.keys(GROUPS) } },
    });
  }, 300_000);
  afterAll(() => server?.close());

  const byChannel = async (who: Who) => {
    const q = {
      metrics: ['purchase_amount', 'purchasers'],
      groupBy: [{ dimension: 'customer.channel' }],
      where: { dimension: 'customer.channel', op: 'IN', values: Object.keys(GROUPS) },
    };
    return (await ok(server.keys[who], METRICS, { q })).metrics as { rows: Record<string, unknown>[]; suppressedRows: number[] };
  };

  it('hides a metric value of k-1 customers and shows k and k+1, flagging the row', async () => {
    const analyst = await byChannel('analyst');
    const row = (channel: string) => analyst.rows.find((r) => r.customer__channel === channel);
    expect(row('kiosk_a')).toMatchObject({ purchase_amount: null, purchasers: null });
    expect(analyst.suppressedRows).toEqual([analyst.rows.indexOf(row('kiosk_a') as Record<string, unknown>)]);
    expect(row('kiosk_b')).toMatchObject({ purchasers: K, purchase_amount: K * 1000 + (K * (K - 1)) / 2 });
    expect(row('kiosk_c')).toMatchObject({ purchasers: K + 1, purchase_amount: (K + 1) * 1000 + ((K + 1) * K) / 2 });
    // Cleared for personal data, an admin sees every value.
    const admin = await byChannel('admin');
    expect(admin.suppressedRows).toEqual([]);
    expect(admin.rows.find((r) => r.customer__channel === 'kiosk_a')).toMatchObject({
      purchasers: K - 1,
      purchase_amount: (K - 1) * 1000 + ((K - 1) * (K - 2)) / 2,
    });
  });

  it('shows an analyst every metric as an admin sees it, or null with the row flagged, and nothing else', async () => {
    const metrics = [...WEALTH_CORE_METRICS, 'redemption_amount', 'net_inflow', 'purchase_amount_growth_mom', 'purchase_amount_30d', 'purchase_amount_mtd'];
    let hidden = 0;
    let shown = 0;
    for (const metric of metrics) {
      const q = {
        metrics: [metric],
        groupBy: [{ dimension: 'customer.city_tier' }, { dimension: 'customer.age_band' }, { dimension: 'metric_time', grain: 'MONTH' }],
        timeRange: { from: '2026-07-01', to: '2026-11-01' },
      };
      const admin = (await ok(server.keys.admin, METRICS, { q })).metrics;
      const analyst = (await ok(server.keys.analyst, METRICS, { q })).metrics;
      expect(analyst.rows.length, metric).toBe(admin.rows.length);
      analyst.rows.forEach((row: Record<string, unknown>, i: number) => {
        const flagged = analyst.suppressedRows.includes(i);
        expect({ ...row, [metric]: null }, metric).toEqual({ ...admin.rows[i], [metric]: null });
        if (flagged) expect(row[metric], metric).toBeNull();
        else expect(row[metric], metric).toEqual(admin.rows[i][metric]);
        if (flagged) hidden += 1;
        else shown += 1;
      });
    }
    // Small groups exist in a 300-customer demo split by city tier, age band and month: both cases occur.
    expect(hidden).toBeGreaterThan(0);
    expect(shown).toBeGreaterThan(0);
  });

  it('leaves out distinct values shared by fewer than k customers', async () => {
    const q = { metrics: [], groupBy: [{ dimension: 'customer.channel' }] };
    const analyst = (await ok(server.keys.analyst, METRICS, { q })).metrics.rows.map((r: Record<string, unknown>) => r.customer__channel);
    expect(analyst).not.toContain('kiosk_a');
    expect(analyst).toEqual(expect.arrayContaining(['kiosk_b', 'kiosk_c', 'app']));
    const admin = (await ok(server.keys.admin, METRICS, { q })).metrics.rows.map((r: Record<string, unknown>) => r.customer__channel);
    expect(admin).toContain('kiosk_a');
  });

  it('refuses personal members to an analyst in group-by, filter, order-by, sub-day grains and ranges, and allows them to an admin', async () => {
    const personal = [
      { metrics: [], groupBy: [{ dimension: 'customer.customer_id' }] },
      { metrics: ['purchase_amount'], groupBy: [{ dimension: 'transaction.txn_id' }], orderBy: [{ field: 'transaction.txn_id' }] },
      { metrics: ['purchase_amount'], where: { dimension: 'customer.customer_id', op: 'EQ', values: ['ka000'] } },
      { metrics: ['active_customers'], groupBy: [{ dimension: 'app_event.occurred_at', grain: 'SECOND' }] },
      { metrics: ['active_customers'], groupBy: [{ dimension: 'metric_time', grain: 'HOUR' }] },
      { metrics: ['purchase_amount'], where: { dimension: 'transaction.occurred_at', op: 'GTE', values: ['2026-10-10T03:00:00Z'] } },
      { metrics: ['purchase_amount'], timeRange: { from: '2026-10-10T02:00:00Z', to: '2026-10-10T04:00:00Z' } },
    ];
    for (const q of personal) {
      const body = await refused(server.keys.analyst, METRICS, { q });
      expect(body.errors?.[0]?.message).toMatch(/personal/);
      expect((await post(server.keys.admin, METRICS, { q })).errors, JSON.stringify(q)).toBeUndefined();
    }
    // A whole day is fine: day grain at most.
    await ok(server.keys.analyst, METRICS, {
      q: { metrics: ['purchase_amount'], groupBy: [{ dimension: 'metric_time', grain: 'DAY' }], timeRange: { from: '2026-10-10', to: '2026-10-11' } },
    });
  });

  it('refuses previews and audiences over personal members, so a threshold cannot be bisected for one customer', async () => {
    const bisect = {
      and: [
        { dimension: 'customer.customer_id', op: 'EQ', values: ['ka000'] },
        { aggregate: { measure: 'transaction.purchase_amount', window: { days: 365 } }, op: 'GT', values: ['500'] },
      ],
    };
    await refused(server.keys.analyst, 'query($r: RuleInput!) { tagPreview(rule: $r) { customers } }', { r: bisect });
    await refused(server.keys.steward, 'mutation($i: CreateAudienceInput!) { createAudience(input: $i) { key } }', {
      i: { key: 'one_customer', rule: bisect },
    });
    await refused(server.keys.steward, 'mutation($i: CreateTagInput!) { createTag(input: $i) { key } }', {
      i: { key: 'one_customer_tag', kind: 'BOOLEAN', description: 'x', rule: bisect },
    });
  });

  it('hides an audience size under k from an analyst and shows k and k+1', async () => {
    const size = async (who: Who, key: string) => (await ok(server.keys[who], 'query($k: String!) { audience(key: $k) { size } }', { k: key })).audience.size;
    expect(await size('analyst', 'aud_kiosk_a')).toBeNull();
    expect(await size('analyst', 'aud_kiosk_b')).toBe(K);
    expect(await size('analyst', 'aud_kiosk_c')).toBe(K + 1);
    expect(await size('operator', 'aud_kiosk_a')).toBe(K - 1);
  });

  it('suppresses a preview value under k with the cells and totals that would reveal it', async () => {
    const preview = async (channel: string) =>
      (
        await ok(server.keys.analyst, 'query($r: RuleInput!) { tagPreview(rule: $r) { customers coverage values { value customers suppressed } } }', {
          r: { dimension: 'customer.channel', op: 'EQ', values: [channel] },
        })
      ).tagPreview;
    const small = await preview('kiosk_a');
    expect(small.customers).toBeNull();
    expect(small.coverage).toBeNull();
    // The matching value is small; the other is hidden too, or the total would give it away.
    expect(small.values.every((v: { suppressed: boolean; customers: number | null }) => v.suppressed && v.customers === null)).toBe(true);
    const edge = await preview('kiosk_b');
    expect(edge.customers).toBe(K);
    expect(edge.values.find((v: { value: string }) => v.value === 'true')).toMatchObject({ customers: K, suppressed: false });
  });

  it('compares an audience with small cells suppressed so that the audience size minus the shown cells recovers nothing', async () => {
    const insight = async (who: Who) =>
      (await ok(server.keys[who], '{ audienceInsight(audience: "kiosks", tags: ["risk_level"]) { tag value audienceCustomers } }')).audienceInsight as {
        value: string;
        audienceCustomers: number;
      }[];
    const analyst = await insight('analyst');
    // C1 counts k-1: hidden; C2 (k customers, the smallest other cell) goes with it, so 30 - 11 = 19 is a sum of two.
    expect(analyst).toEqual([{ tag: 'risk_level', value: 'C3', audienceCustomers: K + 1 }]);
    const size = (await ok(server.keys.analyst, '{ audience(key: "kiosks") { size } }')).audience.size;
    expect(size - analyst.reduce((n, r) => n + r.audienceCustomers, 0)).toBeGreaterThanOrEqual(K);
    const operator = await insight('operator');
    expect(operator.map((r) => [r.value, r.audienceCustomers]).sort()).toEqual([
      ['C1', K - 1],
      ['C2', K],
      ['C3', K + 1],
    ]);
  });

  it('hides physical tables and drafts from roles that may not see them', async () => {
    const lineage = async (who: Who) =>
      (await ok(server.keys[who], '{ catalog { metrics { name lineage { tables } } } }')).catalog.metrics.find((m: { name: string }) => m.name === 'aum')
        .lineage.tables;
    expect(await lineage('analyst')).toBeNull();
    expect(await lineage('admin')).toEqual(['wealth.holdings_daily']);
    await ok(
      server.keys.steward,
      'mutation { createTag(input: { key: "draft_only", kind: BOOLEAN, description: "d", rule: { dimension: "customer.age_band", op: EQ, values: ["55+"] } }) { key } }',
    );
    const tags = async (who: Who) => (await ok(server.keys[who], '{ catalog { tags { key } } }')).catalog.tags.map((t: { key: string }) => t.key);
    expect(await tags('analyst')).not.toContain('draft_only');
    expect(await tags('steward')).toContain('draft_only');
    const sensitivities = (await ok(server.keys.analyst, '{ catalog { models { name dimensions { name sensitivity } } } }')).catalog.models;
    const customer = sensitivities.find((m: { name: string }) => m.name === 'customer');
    expect(customer.dimensions.find((d: { name: string }) => d.name === 'customer_id').sensitivity).toBe('personal');
  });

  it('logs who read which customers through profiles and audience members, for admins to query', async () => {
    await ok(server.keys.app, '{ customers(ids: ["kb000", "kb001", "nobody"]) { id } }');
    await ok(server.keys.operator, '{ audience(key: "aud_kiosk_c") { members(first: 3) { edges { node { id } } } } }');
    const reads = (await ok(server.keys.admin, '{ personalDataReads(first: 10) { actor operation customerIds } }')).personalDataReads as {
      actor: string;
      operation: string;
      customerIds: string[];
    }[];
    expect(reads).toEqual(
      expect.arrayContaining([
        { actor: 'priv-app', operation: 'customer', customerIds: ['kb000', 'kb001'] },
        { actor: 'priv-operator', operation: 'audience.members', customerIds: ['kc000', 'kc001', 'kc002'] },
      ]),
    );
    const mine = (await ok(server.keys.admin, '{ personalDataReads(customerId: "kb001", first: 10) { actor } }')).personalDataReads;
    expect(mine).toEqual([{ actor: 'priv-app' }]);
    await refused(server.keys.operator, '{ personalDataReads(first: 1) { actor } }');
  });

  /** A key made through the API by the admin, with a clearance and scope of its own. */
  const keyFor = async (name: string, role: string, grant: { clearance?: string; scope?: unknown }) =>
    (await ok(server.keys.admin, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { token } }', { i: { name, role, ...grant } })).createApiKey
      .token as string;

  it('confines a scoped key to its customers in metrics, profiles, audiences and previews, and caches each scope apart', async () => {
    const onlyB = await keyFor('scoped-b', 'admin', { scope: { dimension: 'customer.channel', op: 'EQ', values: ['kiosk_b'] } });
    const onlyC = await keyFor('scoped-c', 'admin', { scope: { dimension: 'customer.channel', op: 'EQ', values: ['kiosk_c'] } });
    const q = { metrics: ['purchasers', 'new_customers'], groupBy: [{ dimension: 'customer.channel' }] };
    // The same query through both keys, twice each: a cached plan of one scope never answers the other.
    for (let round = 0; round < 2; round += 1) {
      expect((await ok(onlyB, METRICS, { q })).metrics.rows).toEqual([{ customer__channel: 'kiosk_b', purchasers: K, new_customers: K }]);
      expect((await ok(onlyC, METRICS, { q })).metrics.rows).toEqual([{ customer__channel: 'kiosk_c', purchasers: K + 1, new_customers: K + 1 }]);
    }
    const total = (await ok(onlyB, METRICS, { q: { metrics: ['purchase_amount'] } })).metrics.rows[0].purchase_amount;
    expect(total).toBe(K * 1000 + (K * (K - 1)) / 2);
    expect((await ok(onlyB, '{ customer(id: "kc000") { id } }')).customer).toBeNull();
    expect((await ok(onlyB, '{ customer(id: "kb000") { id } }')).customer).toEqual({ id: 'kb000' });
    expect((await ok(onlyB, '{ audience(key: "kiosks") { size } }')).audience.size).toBe(K);
    expect((await ok(onlyB, '{ audience(key: "aud_kiosk_c") { size members(first: 5) { edges { node { id } } } } }')).audience).toEqual({
      size: 0,
      members: { edges: [] },
    });
    const preview = (await ok(onlyB, '{ tagPreview(rule: { dimension: "customer.age_band", op: EQ, values: ["35-44"] }) { customers coverage } }')).tagPreview;
    expect(preview).toEqual({ customers: K, coverage: 1 });
  });

  it("masks a tag above the caller's clearance in profiles", async () => {
    const create = 'mutation($i: CreateTagInput!) { createTag(input: $i) { key } }';
    await ok(server.keys.admin, create, {
      i: {
        key: 'kiosk_vip',
        kind: 'BOOLEAN',
        description: 'Kiosk VIPs',
        sensitivity: 'personal',
        rule: { dimension: 'customer.channel', op: 'EQ', values: ['kiosk_c'] },
      },
    });
    await ok(server.keys.admin, 'mutation { submitTag(key: "kiosk_vip", expectedVersion: 1) { status } }');
    const approver = await keyFor('priv-approver', 'approver', {});
    await ok(approver, 'mutation { approveTag(key: "kiosk_vip", expectedVersion: 1) { status } }');
    await ok(server.keys.admin, 'mutation { materializeTags { runId } }');
    const read = async (token: string) =>
      (await ok(token, '{ customer(id: "kc000") { tags { key value masked } } }')).customer.tags.find((t: { key: string }) => t.key === 'kiosk_vip');
    expect(await read(server.keys.app)).toEqual({ key: 'kiosk_vip', value: true, masked: false });
    const internalApp = await keyFor('app-internal', 'app', { clearance: 'internal' });
    expect(await read(internalApp)).toEqual({ key: 'kiosk_vip', value: null, masked: true });
    // The catalog says why.
    const tags = (await ok(server.keys.analyst, '{ catalog { tags { key sensitivity } } }')).catalog.tags;
    expect(tags.find((t: { key: string }) => t.key === 'kiosk_vip')).toEqual({ key: 'kiosk_vip', sensitivity: 'personal' });
  });
});
