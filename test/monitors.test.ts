import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { createApp, type App } from '../api/app.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { defineMonitor } from '../modeling/dsl/define-monitor.ts';
import { monitorPeriod, runDueMonitors, MAX_DELIVERY_ATTEMPTS, type MonitorDeps } from '../services/monitors.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { changeDefinition } from '../store/definition-store.ts';
import { wealthDomain } from '../domains/wealth/index.ts';

/**
 * Monitors: evaluated once per period however many server instances run (advisory lock and
 * the (monitor, period) key), firings carry the explanation of the change, webhooks are
 * retried with backoff until delivered or given up.
 */

describe('monitor definitions', () => {
  it('evaluates the last complete period of the data', () => {
    expect(monitorPeriod('DAILY', '2026-10-31')).toEqual({ from: '2026-10-31', to: '2026-11-01' });
    expect(monitorPeriod('WEEKLY', '2026-10-31')).toEqual({ from: '2026-10-19', to: '2026-10-26' });
    expect(monitorPeriod('MONTHLY', '2026-10-31')).toEqual({ from: '2026-10-01', to: '2026-11-01' });
  });

  it('refuses a malformed monitor', () => {
    const base = { key: 'm_bad', title: 'x', metric: 'aum', schedule: 'DAILY' as const };
    expect(() => defineMonitor({ ...base, condition: { kind: 'THRESHOLD' } })).toThrow(/threshold/);
    expect(() => defineMonitor({ ...base, condition: { kind: 'SEASONAL', periods: 0, tolerance: 0.1 } })).toThrow(/1 to 12/);
    expect(() => defineMonitor({ ...base, condition: { kind: 'THRESHOLD', above: 1 }, webhook: 'ftp://example.com' })).toThrow(/webhook/);
  });
});

type Key = 'operator' | 'operator2' | 'approver' | 'analyst';

await describeEachEngine('monitors on %s', (engine) => {
  let server: DemoServer<Key>;
  let second: { app: App; database?: Database } | undefined;
  const { post, ok } = graphqlClient(() => server.base);
  const as = (who: Key) => (query: string, variables?: Record<string, unknown>) => ok(server.keys[who], query, variables);

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 1500,
      seed: 31,
      keys: {
        operator: ['m-operator', 'operator'],
        operator2: ['m-operator-2', 'operator'],
        approver: ['m-approver', 'approver'],
        analyst: ['m-analyst', 'analyst'],
      },
    });
    // A second server instance on the same database (its own pool on PostgreSQL; PGlite has one connection).
    const url = (server.database as { url?: string }).url;
    const database = url ? await openDatabase({ databaseUrl: url, poolSize: 4 }) : undefined;
    second = { app: await createApp(database ?? server.database, bundledDomain(), { dev: false, maxBodyBytes: 1_000_000 }), ...(database ? { database } : {}) };
  }, 300_000);
  afterAll(async () => {
    await second?.app.close();
    await second?.database?.close();
    await server?.close();
  });

  const floorInput = {
    key: 'october_purchases_floor',
    title: 'Purchases above a floor of 1 CNY',
    metric: 'purchase_amount',
    schedule: 'MONTHLY',
    condition: { kind: 'THRESHOLD', above: 1 },
    explainBy: ['customer.channel', 'customer.risk_level'],
  };
  const monitorKeys = async (who: Key, drafts = false) =>
    (await as(who)(`{ monitors${drafts ? '(includeDrafts: true)' : ''} { key status version } }`)).monitors as {
      key: string;
      status: string;
      version: number;
    }[];

  it('is a governed definition: drafted, submitted, approved by someone else before it is evaluated; rejected with a reason', async () => {
    const saved = await as('operator')('mutation($i: MonitorInput!) { saveMonitor(input: $i) { key source status version } }', { i: floorInput });
    expect(saved.saveMonitor).toEqual({ key: 'october_purchases_floor', source: 'OPERATOR', status: 'DRAFT', version: 1 });
    // A draft is not served, nor evaluated by the scheduler.
    expect((await monitorKeys('analyst')).map((m) => m.key)).not.toContain('october_purchases_floor');
    expect(await monitorKeys('operator', true)).toContainEqual({ key: 'october_purchases_floor', status: 'DRAFT', version: 1 });
    expect((await post(server.keys.analyst, '{ monitors(includeDrafts: true) { key } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // The scheduler evaluates the served monitors (those defined as code), not the draft.
    expect((await server.app.monitors.tick())?.evaluated).toBe((await monitorKeys('analyst')).length);
    const none = await sql<{ n: number }>`SELECT count(*)::int AS n FROM strata.monitor_evaluations WHERE monitor_key = 'october_purchases_floor'`.execute(
      server.database.db,
    );
    expect(none.rows[0]?.n).toBe(0);
    const key = { k: 'october_purchases_floor' };
    await as('operator')('mutation($k: String!) { submitMonitor(key: $k, expectedVersion: 1) { status } }', key);
    // Four eyes: its author cannot approve it; the server says why.
    const own = await post(server.keys.operator, 'mutation($k: String!) { approveMonitor(key: $k, expectedVersion: 1) { status } }', key);
    expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(own.errors?.[0]?.message).toMatch(/authored this version of monitor/);
    // An approver rejects it with a reason; back to a draft, edited, resubmitted, and approved by another operator.
    const rejected = await as('approver')(
      'mutation($k: String!) { rejectMonitor(key: $k, expectedVersion: 1, reason: "name the floor in the title") { status } }',
      key,
    );
    expect(rejected.rejectMonitor.status).toBe('DRAFT');
    await as('operator')('mutation($i: MonitorInput!) { saveMonitor(input: $i, expectedVersion: 1) { version } }', {
      i: { ...floorInput, title: 'October purchases above 1 CNY' },
    });
    await as('operator')('mutation($k: String!) { submitMonitor(key: $k, expectedVersion: 2) { status } }', key);
    const approved = await as('operator2')('mutation($k: String!) { approveMonitor(key: $k, expectedVersion: 2) { status version title } }', key);
    expect(approved.approveMonitor).toEqual({ status: 'PUBLISHED', version: 2, title: 'October purchases above 1 CNY' });
    expect(await monitorKeys('analyst')).toContainEqual({ key: 'october_purchases_floor', status: 'PUBLISHED', version: 2 });
    const { monitorHistory } = await as('analyst')('query($k: String!) { monitorHistory(key: $k) { version action actor reason } }', key);
    expect(monitorHistory.map((h: { action: string }) => h.action)).toEqual(['create', 'submit', 'reject', 'update', 'submit', 'approve']);
    expect(monitorHistory[2]).toMatchObject({ actor: 'm-approver', reason: 'name the floor in the title' });
    expect(monitorHistory[5]).toMatchObject({ actor: 'm-operator-2', version: 2 });
  });

  it('keeps a webhook URL out of the history (it may hold a secret): only its host', async () => {
    const input = { ...floorInput, key: 'hooked_history', webhook: 'https://hooks.example.com/secret-token-123' };
    await as('operator')('mutation($i: MonitorInput!) { saveMonitor(input: $i) { key } }', { i: input });
    const { monitorHistory } = await as('analyst')('{ monitorHistory(key: "hooked_history") { diff } }');
    const text = JSON.stringify(monitorHistory);
    expect(text).toContain('hooks.example.com');
    expect(text).not.toContain('secret-token-123');
  });

  it('fires once per breach across two server instances, with the explanation attached', async () => {
    const runs = await Promise.all([server.app.monitors.tick(), second?.app.monitors.tick()]);
    // Approved in the test above: the one monitor not evaluated yet this period, by one instance only.
    const evaluated = runs.reduce((s, r) => s + (r?.evaluated ?? 0), 0);
    const monitors = (await as('analyst')('{ monitors { key } }')).monitors as { key: string }[];
    expect(evaluated).toBe(1);
    const { rows } = await sql<{ key: string; n: number }>`SELECT monitor_key AS key, count(*)::int AS n FROM strata.monitor_evaluations GROUP BY 1`.execute(
      server.database.db,
    );
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect(rows.length).toBe(monitors.length);
    // Nothing is due again until the next period.
    const again = await Promise.all([server.app.monitors.tick(), second?.app.monitors.tick()]);
    expect(again.reduce((s, r) => s + (r?.evaluated ?? 0), 0)).toBe(0);

    const { monitors: read } = await as('analyst')(
      '{ monitors { key schedule firings { at period { from to } value expected fired reason explanation { change contributions { dimension value share suppressed } explanations { members { dimension value } } } } } }',
    );
    const floor = read.find((m: { key: string }) => m.key === 'october_purchases_floor');
    expect(floor.firings).toHaveLength(1);
    const [firing] = floor.firings;
    expect(firing).toMatchObject({ period: { from: '2026-10-01', to: '2026-11-01' }, fired: true, expected: 1 });
    const { rows: truth } = await sql<{ total: string }>`SELECT SUM(amount)::text AS total FROM wealth.transactions
      WHERE txn_type = 'purchase' AND status = 'succeeded'
        AND occurred_at >= TIMESTAMP '2026-10-01' AT TIME ZONE 'Asia/Shanghai' AND occurred_at < TIMESTAMP '2026-11-01' AT TIME ZONE 'Asia/Shanghai'`.execute(
      server.database.db,
    );
    expect(firing.value).toBeCloseTo(Number(truth[0]?.total), 2);
    // Stored under the privacy threshold: either every channel is shown and the shares add up, or two or more are hidden.
    const shares = firing.explanation.contributions.filter((c: { dimension: string }) => c.dimension === 'customer.channel');
    const hidden = shares.filter((c: { suppressed: boolean }) => c.suppressed).length;
    expect(shares.length).toBeGreaterThan(1);
    if (hidden === 0) expect(shares.reduce((s: number, c: { share: number | null }) => s + (c.share ?? 0), 0)).toBeCloseTo(1, 6);
    else expect(hidden).toBeGreaterThanOrEqual(2);
  });

  it('refuses a monitor the catalog cannot answer, and callers without the right', async () => {
    const save = 'mutation($i: MonitorInput!) { saveMonitor(input: $i) { key } }';
    const input = { key: 'bad_monitor', title: 'x', metric: 'nope', schedule: 'DAILY', condition: { kind: 'THRESHOLD', below: 1 } };
    expect((await post(server.keys.operator, save, { i: input })).errors?.[0]?.extensions?.code).toBe('UNKNOWN_MEMBER');
    expect((await post(server.keys.analyst, save, { i: { ...input, metric: 'aum' } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await post(server.keys.analyst, 'mutation { runMonitors { ran } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('posts a firing to its webhook, retrying with backoff until delivered or given up', async () => {
    const domain = wealthDomain();
    let now = Date.parse('2026-11-26T00:00:00Z');
    const calls: string[] = [];
    let failures = 2;
    const deps = (monitors: ReturnType<typeof defineMonitor>[], fail: () => boolean): MonitorDeps => ({
      db: server.database.db,
      semantic: async () => createSemanticLayer(domain.catalog, { maxRows: 10_000, subject: 'customer' }),
      domain: { ...domain, monitors },
      privacyK: 10,
      now: () => new Date(now),
      deliveryBaseMs: 1000,
      fetch: (async (url: string, init: { body: string }) => {
        calls.push(`${url} ${JSON.parse(init.body).monitor}`);
        return new Response('', { status: fail() ? 503 : 200 });
      }) as unknown as typeof fetch,
    });
    const hooked = defineMonitor({
      key: 'hooked_weekly',
      title: 'Hooked',
      metric: 'purchasers',
      schedule: 'WEEKLY',
      condition: { kind: 'THRESHOLD', above: 0 },
      webhook: 'https://hooks.example.com/strata',
    });
    const flaky = deps([hooked], () => failures-- > 0);
    expect(await runDueMonitors(flaky)).toMatchObject({ ran: true, evaluated: 1, fired: 1, delivered: 0 });
    // Not yet due: the retry waits 1 s, then 2 s.
    expect((await runDueMonitors(flaky)).delivered).toBe(0);
    now += 1000;
    expect((await runDueMonitors(flaky)).delivered).toBe(0);
    now += 2000;
    expect((await runDueMonitors(flaky)).delivered).toBe(1);
    expect(calls).toEqual(Array(3).fill('https://hooks.example.com/strata hooked_weekly'));
    const { rows } = await sql<{ status: string; attempts: number }>`SELECT delivery_status AS status, delivery_attempts AS attempts
      FROM strata.monitor_evaluations WHERE monitor_key = 'hooked_weekly'`.execute(server.database.db);
    expect(rows).toEqual([{ status: 'delivered', attempts: 3 }]);

    // A hook that never answers is given up after the last attempt.
    const dead = deps([{ ...hooked, key: 'dead_hook' }], () => true);
    await runDueMonitors(dead);
    for (let i = 1; i < MAX_DELIVERY_ATTEMPTS; i++) {
      now += 1000 * 2 ** i;
      await runDueMonitors(dead);
    }
    const { rows: given } = await sql<{ status: string; attempts: number }>`SELECT delivery_status AS status, delivery_attempts AS attempts
      FROM strata.monitor_evaluations WHERE monitor_key = 'dead_hook'`.execute(server.database.db);
    expect(given).toEqual([{ status: 'failed', attempts: MAX_DELIVERY_ATTEMPTS }]);
  });

  it('serves a monitor stored ACTIVE before review was required as published; a change to it is a draft while it keeps running', async () => {
    const legacy = { ...floorInput, key: 'legacy_active', title: 'Saved before review', condition: { kind: 'THRESHOLD' as const, above: 1 } };
    await changeDefinition(server.database.db, {
      kind: 'monitor',
      key: 'legacy_active',
      expectedVersion: null,
      actor: 'm-operator',
      action: 'create',
      apply: () => ({ status: 'ACTIVE', body: { spec: legacy }, bumpVersion: true }),
    });
    expect(await monitorKeys('analyst')).toContainEqual({ key: 'legacy_active', status: 'PUBLISHED', version: 1 });
    await as('operator')('mutation($i: MonitorInput!) { saveMonitor(input: $i, expectedVersion: 1) { status } }', {
      i: { ...floorInput, key: 'legacy_active', title: 'Changed after review was required' },
    });
    const served = (await as('analyst')('{ monitors { key title version } }')).monitors.find((m: { key: string }) => m.key === 'legacy_active');
    expect(served).toEqual({ key: 'legacy_active', title: 'Saved before review', version: 1 });
    expect(await monitorKeys('operator', true)).toContainEqual({ key: 'legacy_active', status: 'DRAFT', version: 2 });
  });
});
