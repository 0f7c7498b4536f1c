import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { lastCompleteDay, resolveRelativeRange, resolveTileQuery, defineDashboard } from '../modeling/dsl/define-dashboard.ts';
import { wealthDomain } from '../domains/wealth/index.ts';
import { wealthTags } from '../domains/wealth/tags.ts';
import { withTagDimensions } from '../modeling/tags/tag-dimensions.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { checkDashboard } from '../services/dashboards.ts';
import { StrataError } from '../modeling/errors.ts';

/**
 * Dashboards as code (the seven templates of the bundled domain) and a steward's dashboard
 * under review; relative ranges resolved against the data; every template's tiles run
 * through the operations the contract names.
 */

const TEMPLATES = ['goal_tracking', 'placement_efficiency', 'strategy_tracking', 'basic_flow', 'channels', 'customer_structure', 'customer_health'];

describe('dashboard definitions', () => {
  it('resolves relative ranges against the last complete day of the data', () => {
    expect(resolveRelativeRange({ grain: 'MONTH', periods: 1 }, '2026-10-31')).toEqual({ from: '2026-10-01', to: '2026-11-01' });
    expect(resolveRelativeRange({ grain: 'MONTH', periods: 1, offset: 1 }, '2026-10-31')).toEqual({ from: '2026-09-01', to: '2026-10-01' });
    expect(resolveRelativeRange({ grain: 'MONTH', periods: 12 }, '2026-10-31')).toEqual({ from: '2025-11-01', to: '2026-11-01' });
    // Mid-month data: the last complete month is the one before.
    expect(resolveRelativeRange({ grain: 'MONTH', periods: 1 }, '2026-10-15')).toEqual({ from: '2026-09-01', to: '2026-10-01' });
    expect(resolveRelativeRange({ grain: 'WEEK', periods: 2 }, '2026-10-31')).toEqual({ from: '2026-10-12', to: '2026-10-26' });
    expect(resolveRelativeRange({ grain: 'DAY', periods: 7 }, '2026-10-31')).toEqual({ from: '2026-10-25', to: '2026-11-01' });
    expect(lastCompleteDay('2026-10-31', '2026-11-26')).toBe('2026-10-31');
    expect(lastCompleteDay('2026-11-26', '2026-11-26')).toBe('2026-11-25');
    const overridden = resolveTileQuery(
      { metric: 'aum', base: { relative: { grain: 'MONTH', periods: 1, offset: 1 } }, current: { relative: { grain: 'MONTH', periods: 1 } } },
      '2026-10-31',
      { from: '2026-06-01', to: '2026-06-11' },
    );
    expect(overridden).toEqual({ metric: 'aum', base: { from: '2026-05-22', to: '2026-06-01' }, current: { from: '2026-06-01', to: '2026-06-11' } });
  });

  it('ships the seven templates, each tile a valid query of the catalog', () => {
    const domain = wealthDomain();
    expect(domain.dashboards?.map((d) => d.key)).toEqual(TEMPLATES);
    const layer = createSemanticLayer(withTagDimensions(domain.catalog, 'customer', wealthTags), { maxRows: 1000, subject: 'customer' });
    for (const dashboard of domain.dashboards ?? []) expect(() => checkDashboard(layer, domain, dashboard), dashboard.key).not.toThrow();
    const kinds = new Set((domain.dashboards ?? []).flatMap((d) => d.tiles.map((t) => t.kind)));
    expect([...kinds].sort()).toEqual(['CHANGE', 'FUNNEL', 'GOAL', 'METRIC']);
  });

  it('refuses a malformed dashboard or a tile the catalog cannot answer', () => {
    expect(() => defineDashboard({ key: 'x', title: '', titleEn: '', description: '', tiles: [] })).toThrow(/snake_case|title|tiles/);
    const domain = wealthDomain();
    const layer = createSemanticLayer(domain.catalog, { maxRows: 1000, subject: 'customer' });
    const tile = (query: Record<string, unknown>, kind: 'METRIC' | 'FUNNEL' | 'CHANGE' = 'METRIC') => ({
      key: 'd_bad',
      title: '坏',
      titleEn: 'Bad',
      description: '',
      tiles: [{ key: 'tile', title: 't', titleEn: 't', kind, visualization: 'number' as const, query: query as never }],
    });
    const codeOf = (dashboard: ReturnType<typeof tile>) => {
      try {
        checkDashboard(layer, domain, dashboard);
        return 'none';
      } catch (error) {
        return error instanceof StrataError ? error.code : String(error);
      }
    };
    expect(codeOf(tile({ metrics: ['nope'] }))).toBe('UNKNOWN_MEMBER');
    expect(codeOf(tile({ metrics: ['aum'], bogus: 1 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(tile({ funnel: 'nope', timeRange: { relative: { grain: 'MONTH', periods: 1 } } }, 'FUNNEL'))).toBe('UNKNOWN_MEMBER');
    expect(codeOf(tile({ metric: 'aum', current: { from: '2026-01-01', to: '2026-02-01' }, dimensions: [] }, 'CHANGE'))).toBe('BAD_USER_INPUT');
  });
});

type Key = 'analyst' | 'steward' | 'approver' | 'operator';

await describeEachEngine('dashboards through GraphQL on %s', (engine) => {
  let server: DemoServer<Key>;
  const { post, ok } = graphqlClient(() => server.base);
  const as = (who: Key) => (query: string, variables?: Record<string, unknown>) => ok(server.keys[who], query, variables);

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 1500,
      seed: 23,
      keys: {
        analyst: ['d-analyst', 'analyst'],
        steward: ['d-steward', 'steward'],
        approver: ['d-approver', 'approver'],
        operator: ['d-operator', 'operator'],
      },
    });
  }, 300_000);
  afterAll(() => server?.close());

  const RUN: Record<string, string> = {
    METRIC: 'query($q: MetricQueryInput!) { metrics(query: $q) { rows suppressedRows } }',
    FUNNEL: 'query($q: FunnelInput!) { funnel(input: $q) { groups { dimensions steps { index customers conversionFromPrevious conversionFromFirst } } } }',
    CHANGE:
      'query($q: ExplainMetricChangeInput!) { explainMetricChange(input: $q) { base current change contributions { dimension value share } explanations { members { dimension value } } mixRate { mixEffect rateEffect } } }',
    GOAL: 'query { goals { key actual progress children { key contribution } } }',
  };

  it('serves the seven templates with their ranges resolved to the last complete month of the data, and every tile runs as is', async () => {
    // A goal tree, so that the cockpit shows progress and a child's contribution.
    const create = 'mutation($i: CreateGoalInput!) { createGoal(input: $i) { key } }';
    await as('operator')(create, {
      i: { key: 'oct_purchases', metric: 'purchase_amount', target: 1_000_000, period: { from: '2026-10-01', to: '2026-11-01' } },
    });
    await as('operator')(create, {
      i: {
        key: 'oct_public_funds',
        metric: 'public_fund_purchase_amount',
        target: 400_000,
        period: { from: '2026-10-01', to: '2026-11-01' },
        parent: 'oct_purchases',
      },
    });
    const { dashboards } = await as('analyst')('{ dashboards { key title titleEn source tiles { key kind visualization query } } }');
    expect(dashboards.map((d: { key: string }) => d.key)).toEqual(TEMPLATES);
    expect(dashboards.find((d: { key: string }) => d.key === 'basic_flow').title).toBe('基础流程');
    const tiles = dashboards.flatMap((d: { tiles: { kind: string; query: Record<string, unknown> }[] }) => d.tiles);
    const flow = tiles.find((t: { kind: string; query: Record<string, unknown> }) => t.kind === 'FUNNEL');
    expect(flow.query.timeRange).toEqual({ from: '2026-10-01', to: '2026-11-01' });
    // Each dashboard's tiles at once, as the console renders one dashboard; the dashboards one
    // after another: all 35 tiles at once overflow the analytics lane's queue on 2 cores
    // (1 running, 32 waiting), which refuses the rest with RATE_LIMITED, as it should.
    const answers: Awaited<ReturnType<typeof post>>[] = [];
    for (const dashboard of dashboards as { tiles: { kind: string; query: Record<string, unknown> }[] }[])
      answers.push(
        ...(await Promise.all(dashboard.tiles.map((t) => post(server.keys.analyst, RUN[t.kind] as string, t.kind === 'GOAL' ? {} : { q: t.query })))),
      );
    for (const [i, answer] of answers.entries()) expect(answer.errors, JSON.stringify(tiles[i])).toBeUndefined();
    const goals = answers[tiles.findIndex((t: { kind: string }) => t.kind === 'GOAL')]?.data?.goals as {
      key: string;
      progress: number;
      children: { contribution: number }[];
    }[];
    const root = goals.find((g) => g.key === 'oct_purchases');
    expect(root, JSON.stringify(goals)).toBeDefined();
    expect(root?.progress, JSON.stringify(goals)).toBeGreaterThan(0);
    expect(root?.children[0]?.contribution).toBeGreaterThan(0);
  });

  it('overrides the period of one dashboard', async () => {
    const { dashboard } = await as('analyst')(
      '{ dashboard(key: "goal_tracking", timeRange: { from: "2026-06-01", to: "2026-07-01" }) { tiles { key query } } }',
    );
    const change = dashboard.tiles.find((t: { key: string }) => t.key === 'purchase_change');
    expect(change.query.current).toEqual({ from: '2026-06-01', to: '2026-07-01' });
    expect(change.query.base).toEqual({ from: '2026-05-02', to: '2026-06-01' });
    expect((await as('analyst')('{ dashboard(key: "nope") { key } }')).dashboard).toBeNull();
  });

  it('lets a steward add a dashboard under review: draft, four eyes, publish, history', async () => {
    const input = {
      key: 'mini_program_watch',
      title: '小程序监控',
      titleEn: 'Mini-program watch',
      description: 'Mini-program conversion by risk level.',
      tiles: [
        {
          key: 'conversion',
          title: '转化率',
          titleEn: 'Conversion',
          kind: 'METRIC',
          visualization: 'bar',
          query: {
            metrics: ['purchase_conversion_rate'],
            groupBy: [{ dimension: 'customer.risk_level' }],
            timeRange: { relative: { grain: 'MONTH', periods: 1 } },
          },
        },
      ],
    };
    const save = 'mutation($i: DashboardInput!, $v: Int) { saveDashboard(input: $i, expectedVersion: $v) { key status version source } }';
    expect((await as('steward')(save, { i: input })).saveDashboard).toMatchObject({ status: 'DRAFT', version: 1, source: 'STEWARD' });
    // Not served before it is approved.
    expect((await as('analyst')('{ dashboard(key: "mini_program_watch") { key } }')).dashboard).toBeNull();
    await as('steward')('mutation { submitDashboard(key: "mini_program_watch", expectedVersion: 1) { status } }');
    const steward = await post(server.keys.steward, 'mutation { approveDashboard(key: "mini_program_watch", expectedVersion: 1) { status } }');
    expect(steward.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await as('approver')('mutation { approveDashboard(key: "mini_program_watch", expectedVersion: 1) { status } }')).approveDashboard.status).toBe(
      'PUBLISHED',
    );
    const served = await as('analyst')('{ dashboard(key: "mini_program_watch") { key tiles { query } } }');
    expect(served.dashboard.tiles[0].query.timeRange).toEqual({ from: '2026-10-01', to: '2026-11-01' });
    const history = await as('steward')('{ dashboardHistory(key: "mini_program_watch") { version action actor } }');
    expect(history.dashboardHistory.map((h: { action: string }) => h.action)).toEqual(['create', 'submit', 'approve']);
    // A code-defined key is not the stewards' to take, and a bad tile changes nothing.
    const taken = await post(server.keys.steward, save, { i: { ...input, key: 'basic_flow' } });
    expect(taken.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const bad = await post(server.keys.steward, save, { i: { ...input, key: 'bad_one', tiles: [{ ...input.tiles[0], query: { metrics: ['nope'] } }] } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('UNKNOWN_MEMBER');
    expect((await as('steward')('{ dashboardHistory(key: "bad_one") { version } }')).dashboardHistory).toEqual([]);
  });
});
