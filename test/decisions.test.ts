import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { createApp, type App } from '../api/app.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { trackHomeBannerClick } from '../codegen/generated/strata-client.ts';

/**
 * The decision layer over HTTP, on each engine: the demo's definitions, curation under four
 * eyes, `decide` with its exposure log and fatigue counters, retries, a second instance.
 */

type Key = 'app' | 'opsA' | 'opsB' | 'approver' | 'analyst' | 'admin';
const DECIDE = `mutation($c: String!, $p: [String!]!, $k: String) { decide(customerId: $c, placements: $p, context: { channel: "app" }, idempotencyKey: $k) {
  placement decisionId content { key payload } strategy experiment variant fallback reason } }`;

await describeEachEngine('decisions on %s', (engine) => {
  let server: DemoServer<Key>;
  const { post, ok } = graphqlClient(() => server.base);
  const as = (key: Key, query: string, variables?: Record<string, unknown>) => ok(server.keys[key], query, variables);
  const decide = async (customer: string, placements: string[], idempotencyKey?: string) =>
    (await as('app', DECIDE, { c: customer, p: placements, k: idempotencyKey ?? null })).decide as Record<string, any>[];
  const counters = async (customer: string) =>
    (
      await sql<{ placement_id: string; content_id: string; impressions: number }>`
      SELECT placement_id, content_id, impressions FROM strata.placement_impression_counts WHERE customer_id = ${customer} ORDER BY 1, 2`.execute(
        server.database.db,
      )
    ).rows;
  const events = async (ids: string[]) =>
    (
      await sql<{ event_id: string; placement_id: string; customer_id: string; properties: Record<string, unknown> }>`
      SELECT event_id, placement_id, customer_id, properties FROM wealth.app_events WHERE event_id = ANY(${ids}::text[])`.execute(server.database.db)
    ).rows;

  /** A placement, contents and a strategy for everyone, created by operator A and approved by operator B. */
  const publish = async (kind: string, key: string) => {
    await as('opsA', `mutation { submitDecisionDefinition(kind: ${kind}, key: "${key}", expectedVersion: 1) { status } }`);
    return as('opsB', `mutation { approveDecisionDefinition(kind: ${kind}, key: "${key}", expectedVersion: 1) { status } }`);
  };

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 300,
      seed: 17,
      keys: {
        app: ['mobile-app', 'app'],
        opsA: ['ops-a', 'operator'],
        opsB: ['ops-b', 'operator'],
        approver: ['risk-approver', 'approver'],
        analyst: ['bi', 'analyst'],
        admin: ['root', 'admin'],
      },
    });
    await as('admin', 'mutation { materializeTags { runId } }');
  }, 300_000);
  afterAll(() => server?.close());

  it('serves the demo placements with their tracking events, fatigue rules and fallback', async () => {
    const { placements } = await as(
      'analyst',
      '{ placements { key channel page fallback { key } fatigue { maxImpressions windowDays period scope } tracking { impressionEvent clickEvent } } }',
    );
    const banner = placements.find((p: { key: string }) => p.key === 'home_banner');
    expect(banner).toEqual({
      key: 'home_banner',
      channel: 'app',
      page: 'home',
      fallback: { key: 'home_banner_default' },
      fatigue: [
        { maxImpressions: 3, windowDays: 7, period: null, scope: 'CONTENT' },
        { maxImpressions: 10, windowDays: null, period: 'DAY', scope: 'PLACEMENT' },
      ],
      tracking: { impressionEvent: 'placement_impression', clickEvent: 'placement_click' },
    });
    expect(placements.map((p: { key: string }) => p.key).sort()).toEqual(['home_banner', 'mini_program_home', 'wealth_mall_top']);
    const { experiments } = await as(
      'opsA',
      '{ experiments { key placement status seed hashVersion coverage variants { key weight content { key } } goal { metric event windowDays } } }',
    );
    expect(experiments).toEqual([
      {
        key: 'home_banner_copy',
        placement: 'home_banner',
        status: 'RUNNING',
        seed: 'home_banner_copy',
        hashVersion: 2,
        coverage: 1,
        variants: [
          { key: 'control', weight: 0.5, content: { key: 'banner_fund_generic' } },
          { key: 'social_proof', weight: 0.5, content: { key: 'banner_fund_social_proof' } },
        ],
        goal: { metric: null, event: 'purchase_success', windowDays: 7 },
      },
    ]);
  });

  it('decides every requested placement and logs each decision once as a placement_impression with its counters', async () => {
    const answers = await decide('c000010', ['home_banner', 'wealth_mall_top', 'mini_program_home']);
    expect(answers.map((a) => a.placement)).toEqual(['home_banner', 'wealth_mall_top', 'mini_program_home']);
    for (const a of answers) {
      expect(a.decisionId).toMatch(/^dec_[0-9a-f]{32}$/);
      expect(a.reason.length).toBeGreaterThan(10);
      expect(a.content.payload).toHaveProperty('title');
    }
    const logged = await events(answers.map((a) => a.decisionId));
    expect(logged).toHaveLength(3);
    for (const a of answers) {
      const row = logged.find((e) => e.event_id === a.decisionId);
      expect(row?.placement_id).toBe(a.placement);
      expect(row?.customer_id).toBe('c000010');
      expect(row?.properties).toMatchObject({ decision_id: a.decisionId, content_id: a.content.key, fallback: a.fallback });
      if (a.strategy) expect(row?.properties.strategy_id).toBe(a.strategy);
      if (a.experiment) expect(row?.properties).toMatchObject({ experiment: a.experiment, variant: a.variant });
    }
    expect(await counters('c000010')).toEqual(
      answers
        .map((a) => ({ placement_id: a.placement, content_id: a.content.key, impressions: 1 }))
        .sort((x, y) => x.placement_id.localeCompare(y.placement_id)),
    );
  });

  it('logs a retried decide (same idempotency key, even concurrent) exactly once and answers it the same way', async () => {
    const key = `retry-${engine}-0001`;
    const first = await decide('c000011', ['home_banner', 'wealth_mall_top'], key);
    const retries = await Promise.all([1, 2, 3].map(() => decide('c000011', ['home_banner', 'wealth_mall_top'], key)));
    for (const retry of retries) {
      expect(retry.map((a) => [a.decisionId, a.content.key, a.strategy, a.variant])).toEqual(
        first.map((a) => [a.decisionId, a.content.key, a.strategy, a.variant]),
      );
    }
    expect(await events(first.map((a) => a.decisionId))).toHaveLength(2);
    expect((await counters('c000011')).reduce((n, c) => n + c.impressions, 0)).toBe(2);
    const fresh = await decide('c000011', ['home_banner'], `retry-${engine}-0002`);
    expect(fresh[0]?.decisionId).not.toBe(first[0]?.decisionId);
    expect((await counters('c000011')).reduce((n, c) => n + c.impressions, 0)).toBe(3);
  });

  it("tracks a click with the typed client's generated function of the placement", async () => {
    const [decision] = await decide('c000013', ['home_banner']);
    const click = trackHomeBannerClick({ decision: decision as never, customerId: 'c000013', eventId: `click-${engine}-1` });
    const { trackEvents } = await as('app', 'mutation($e: [TrackEventInput!]!) { trackEvents(events: $e) { accepted rejected { message } } }', { e: [click] });
    expect(trackEvents).toEqual({ accepted: 1, rejected: [] });
    const [row] = await events([`click-${engine}-1`]);
    expect(row).toMatchObject({ placement_id: 'home_banner', properties: { decision_id: decision?.decisionId, content_id: decision?.content.key } });
    expect(() =>
      trackHomeBannerClick({
        decision: { ...(decision as { decisionId: string; content: { key: string }; fallback: boolean }), placement: 'wealth_mall_top' },
        customerId: 'c000013',
        eventId: 'x',
      }),
    ).toThrow(/tracked as a click/);
  });

  it('gives an unknown customer the fallback with a reason, never an error', async () => {
    const [answer] = await decide('nobody_here', ['wealth_mall_top']);
    expect(answer).toMatchObject({ fallback: true, strategy: null, content: { key: 'wealth_mall_default' } });
    expect(answer?.reason).toMatch(/no profile/);
  });

  it('refuses bad input with a coded error and logs nothing', async () => {
    const body = await post(server.keys.app, DECIDE, { c: 'c000012', p: ['no_such_slot'], k: null });
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0]?.message).toMatch(/no live placement 'no_such_slot'/);
    expect(await counters('c000012')).toEqual([]);
  });

  it('runs a new placement through four-eyes review, then caps each content by fatigue and falls back', async () => {
    const schema = { type: 'object', required: ['title'], properties: { title: { type: 'string' } } };
    await as('opsA', 'mutation($i: PlacementInput!) { savePlacement(input: $i) { status } }', {
      i: {
        key: 'test_slot',
        channel: 'app',
        page: 'test',
        description: 'test',
        contentSchema: schema,
        fallback: 'test_default',
        fatigue: [{ scope: 'CONTENT', maxImpressions: 2, windowDays: 7 }],
      },
    });
    const own = await post(server.keys.opsA, 'mutation { submitDecisionDefinition(kind: PLACEMENT, key: "test_slot", expectedVersion: 1) { status } }').then(
      () => post(server.keys.opsA, 'mutation { approveDecisionDefinition(kind: PLACEMENT, key: "test_slot", expectedVersion: 1) { status } }'),
    );
    expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await as('opsB', 'mutation { approveDecisionDefinition(kind: PLACEMENT, key: "test_slot", expectedVersion: 1) { status } }');
    // Published before its fallback content: not served yet, and the other placements still are.
    const early = await post(server.keys.app, DECIDE, { c: 'c000020', p: ['test_slot'], k: null });
    expect(early.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(early.errors?.[0]?.message).toMatch(/fallback content 'test_default' is not published yet/);
    expect((await decide('c000020', ['home_banner']))[0]?.placement).toBe('home_banner');
    const bad = await post(server.keys.opsA, 'mutation($i: ContentInput!) { saveContent(input: $i) { status } }', {
      i: { key: 'test_bad', placement: 'test_slot', description: 'x', payload: { title: 42 } },
    });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/content schema: \/title must be string/);
    for (const key of ['test_default', 'test_a', 'test_b']) {
      await as('opsA', 'mutation($i: ContentInput!) { saveContent(input: $i) { status } }', {
        i: { key, placement: 'test_slot', description: key, payload: { title: key } },
      });
      await publish('CONTENT', key);
    }
    await as('opsA', 'mutation($i: StrategyInput!) { saveStrategy(input: $i) { status } }', {
      i: { key: 'test_everyone', placement: 'test_slot', description: 'all', contents: ['test_a', 'test_b'] },
    });
    expect((await publish('STRATEGY', 'test_everyone')).approveDecisionDefinition.status).toBe('PUBLISHED');
    const shown: string[] = [];
    for (let i = 0; i < 5; i++) shown.push(...(await decide('c000020', ['test_slot'])).map((a) => (a.fallback ? `fallback:${a.content.key}` : a.content.key)));
    expect(shown).toEqual(['test_a', 'test_a', 'test_b', 'test_b', 'fallback:test_default']);
    const retireFallback = await post(server.keys.opsA, 'mutation { retireDecisionDefinition(kind: CONTENT, key: "test_default", reason: "x") { status } }');
    expect(retireFallback.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const history = await as('analyst', '{ decisionHistory(kind: STRATEGY, key: "test_everyone") { version status actor action } }');
    expect(history.decisionHistory.map((h: { action: string; actor: string }) => `${h.action}:${h.actor}`)).toEqual([
      'create:ops-a',
      'submit:ops-a',
      'approve:ops-b',
    ]);
  });

  it('lets a draft name drafts, but publishes a strategy only once its contents are published', async () => {
    await as('opsA', 'mutation($i: ContentInput!) { saveContent(input: $i) { status } }', {
      i: { key: 'test_c', placement: 'test_slot', description: 'c', payload: { title: 'c' } },
    });
    await as('opsA', 'mutation($i: StrategyInput!) { saveStrategy(input: $i) { status } }', {
      i: { key: 'test_waits', placement: 'test_slot', description: 'waits', contents: ['test_c'], priority: 99 },
    });
    await as('opsA', 'mutation { submitDecisionDefinition(kind: STRATEGY, key: "test_waits", expectedVersion: 1) { status } }');
    const early = await post(server.keys.opsB, 'mutation { approveDecisionDefinition(kind: STRATEGY, key: "test_waits", expectedVersion: 1) { status } }');
    expect(early.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(early.errors?.[0]?.message).toMatch(/contents\[0\]: no published content 'test_c'/);
    await as('opsA', 'mutation { retireDecisionDefinition(kind: STRATEGY, key: "test_waits", reason: "not needed") { status } }');
    expect((await decide('c000022', ['test_slot']))[0]?.strategy).not.toBe('test_waits');
  });

  it('keeps the policy catalogue: decide for apps, definitions for operators, reviews by another operator or an approver', async () => {
    expect((await post(server.keys.analyst, DECIDE, { c: 'c000001', p: ['home_banner'], k: null })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await post(server.keys.opsA, DECIDE, { c: 'c000001', p: ['home_banner'], k: null })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const appSave = await post(server.keys.app, 'mutation { retireDecisionDefinition(kind: STRATEGY, key: "test_everyone", reason: "x") { status } }');
    expect(appSave.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await post(server.keys.app, '{ placements { key } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('decides the same on a second instance, which also sees a change made through the first at once', async () => {
    let other: Database = server.database;
    if (engine === 'postgres') other = await openDatabase({ databaseUrl: server.database.url, poolSize: 2 });
    let second: App | undefined;
    try {
      second = await createApp(other, bundledDomain(), { dev: true, maxBodyBytes: 1_000_000, anonymousRole: null });
      const base = `http://127.0.0.1:${await second.listen(0)}`;
      const viaSecond = graphqlClient(() => base);
      const customers = Array.from({ length: 40 }, (_, i) => `c${String(100 + i).padStart(6, '0')}`);
      const pick = (a: Record<string, any>) => [a.strategy, a.experiment, a.variant];
      for (const customer of customers) {
        const here = await decide(customer, ['home_banner']);
        const there = (await viaSecond.ok(server.keys.app, DECIDE, { c: customer, p: ['home_banner'], k: null })).decide;
        expect(there.map(pick)).toEqual(here.map(pick));
      }
      // Warm the second instance's cache, retire through the first, and the second stops serving it.
      expect((await viaSecond.ok(server.keys.app, DECIDE, { c: 'c000021', p: ['test_slot'], k: null })).decide[0].strategy).toBe('test_everyone');
      await as('opsA', 'mutation { retireDecisionDefinition(kind: STRATEGY, key: "test_everyone", reason: "campaign over") { status } }');
      await expect
        .poll(async () => (await viaSecond.ok(server.keys.app, DECIDE, { c: 'c000021', p: ['test_slot'], k: null })).decide[0].strategy, { timeout: 5000 })
        .toBe(null);
    } finally {
      await second?.close();
      if (other !== server.database) await other.close();
    }
  });

  it('creates a strategy from an audience in one call and promotes an experiment winner with history', async () => {
    await as('opsA', 'mutation { createAudience(input: { key: "c3_customers", rule: { tag: "risk_level", op: EQ, values: ["C3"] } }) { key } }');
    const made = await as(
      'opsA',
      'mutation { createStrategyFromAudience(audience: "c3_customers", placement: "test_slot", content: "test_b", priority: 50) { key status version } }',
    );
    expect(made.createStrategyFromAudience).toEqual({ key: 'c3_customers_on_test_slot', status: 'DRAFT', version: 1 });
    await as('opsA', 'mutation { submitDecisionDefinition(kind: STRATEGY, key: "c3_customers_on_test_slot", expectedVersion: 1) { status } }');
    await as('approver', 'mutation { approveDecisionDefinition(kind: STRATEGY, key: "c3_customers_on_test_slot", expectedVersion: 1) { status } }');
    const { rows } = await sql<{
      customer_id: string;
    }>`SELECT customer_id FROM strata.current_profiles WHERE 'c3_customers' = ANY(audiences) ORDER BY 1 LIMIT 1`.execute(server.database.db);
    const member = rows[0]?.customer_id as string;
    expect((await decide(member, ['test_slot']))[0]).toMatchObject({ strategy: 'c3_customers_on_test_slot', content: { key: 'test_b' } });

    const promoted = await as('approver', 'mutation { promoteExperiment(key: "home_banner_copy", variant: "social_proof") { key version status } }');
    expect(promoted.promoteExperiment).toEqual([{ key: 'home_public_fund_test', version: 2, status: 'PUBLISHED' }]);
    const { strategies } = await as('analyst', '{ strategies(placement: "home_banner") { key contents experiment } }');
    expect(strategies.find((s: { key: string }) => s.key === 'home_public_fund_test')).toEqual({
      key: 'home_public_fund_test',
      contents: ['banner_fund_social_proof'],
      experiment: null,
    });
    const { experiments } = await as('analyst', '{ experiments { key status } }');
    expect(experiments).toEqual([{ key: 'home_banner_copy', status: 'STOPPED' }]);
    const history = await as('analyst', '{ decisionHistory(kind: STRATEGY, key: "home_public_fund_test") { action actor reason } }');
    expect(history.decisionHistory.at(-1)).toEqual({
      action: 'promote',
      actor: 'risk-approver',
      reason: "experiment 'home_banner_copy' promoted variant 'social_proof' (content 'banner_fund_social_proof')",
    });
  });
});
