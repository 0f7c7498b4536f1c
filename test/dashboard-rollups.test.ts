import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { wealthTags } from '../domains/wealth/tags.ts';
import { wealthDashboards } from '../domains/wealth/dashboards.ts';
import { concreteRollups } from '../modeling/catalog/rollups.ts';
import { buildCatalog } from '../modeling/catalog/build-catalog.ts';
import { CatalogValidationError } from '../modeling/catalog/validation-error.ts';
import { defineRollup } from '../modeling/dsl/define-rollup.ts';
import { withTagDimensions } from '../modeling/tags/tag-dimensions.ts';
import { createSemanticLayer, type QueryAccess, type SemanticLayer } from '../modeling/semantic-layer.ts';
import { resolveFunnelQuery, type FunnelQuery } from '../modeling/query/funnel-query.ts';
import { matchFunnelRollup } from '../modeling/plan/funnel-rollup.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import { refreshRollups, rollupFreshnessCheck } from '../services/rollups.ts';
import { dataLastCompleteDay, funnelQueryOfJson, metricQueryOfJson, servedDashboard } from '../services/dashboards.ts';
import { explainInputOfJson, explainMetricChange, resolveExplainInput } from '../services/metric-change.ts';
import { goalActual, listGoals } from '../services/goals.ts';
import { ingestEvents } from '../store/event-store.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { wealthModels } from '../domains/wealth/models.ts';
import { wealthMetrics } from '../domains/wealth/metrics.ts';
import { wealthEventStream, wealthFunnels } from '../domains/wealth/funnels.ts';

/**
 * Every tile of every template dashboard is answered from rollups, with the numbers raw
 * tables give: metric tiles row by row, funnel tiles step by step (customers and medians,
 * from funnel rollups), explained changes and goals value by value. Funnel rollups answer
 * only their own funnel over exactly one stored month and grouping; after new events the
 * months they change answer raw until refreshed.
 */
const SUBJECT = 'customer';
const domain = bundledDomain();
const catalog = withTagDimensions(domain.catalog, SUBJECT, wealthTags);
const ANALYST: QueryAccess = { clearance: 'internal', minSubjects: 10 };
const LAST_DAY = '2026-10-31';

/** Every metric query a template dashboard runs: its metric tiles, and each explained change's totals and one-dimension tables. */
function dashboardMetricQueries(layer: SemanticLayer): { title: string; query: MetricQuery }[] {
  const out: { title: string; query: MetricQuery }[] = [];
  for (const dashboard of wealthDashboards)
    for (const tile of servedDashboard(dashboard, LAST_DAY).tiles) {
      const title = `${dashboard.key}.${tile.key}`;
      if (tile.kind === 'METRIC') out.push({ title, query: metricQueryOfJson(tile.query) });
      if (tile.kind !== 'CHANGE') continue;
      const input = explainInputOfJson(tile.query);
      const { metric, parts } = resolveExplainInput(layer, input);
      for (const range of [input.current, input.base ?? input.current])
        for (const dimension of [undefined, ...input.dimensions])
          out.push({
            title: `${title} ${dimension ?? 'total'} ${range.from}`,
            query: { metrics: [metric.name, ...(parts ?? [])], timeRange: range, ...(dimension ? { groupBy: [{ dimension }] } : {}) },
          });
    }
  return out;
}

const funnelTiles = () =>
  wealthDashboards.flatMap((d) =>
    servedDashboard(d, LAST_DAY)
      .tiles.filter((t) => t.kind === 'FUNNEL')
      .map((t) => ({ title: `${d.key}.${t.key}`, query: funnelQueryOfJson(t.query) })),
  );

describe('template dashboards and the bundled rollups', () => {
  const planner = createSemanticLayer(catalog, { maxRows: 100_000, subject: SUBJECT, rollupFreshness: async () => undefined });

  it('plans every metric query of every template dashboard from a rollup', () => {
    const raw = dashboardMetricQueries(planner).filter(({ query }) => planner.plan(query).plan.rollup === undefined);
    expect(raw.map((r) => r.title)).toEqual([]);
  });

  it('stores every funnel tile of every template dashboard in a funnel rollup', () => {
    for (const { title, query } of funnelTiles())
      expect(matchFunnelRollup(planner.index, query, resolveFunnelQuery(planner.index, query), 10), title).toBeDefined();
  });

  it('answers raw a funnel over two months, another grouping, a filter or changed steps', () => {
    const october = { from: '2026-10-01', to: '2026-11-01' };
    const cases: FunnelQuery[] = [
      { funnel: 'purchase_flow', timeRange: { from: '2026-09-01', to: '2026-11-01' } },
      { funnel: 'purchase_flow', timeRange: { from: '2026-10-02', to: '2026-11-01' } },
      { funnel: 'purchase_flow', timeRange: october, groupBy: [{ dimension: 'customer.risk_level' }] },
      { funnel: 'purchase_flow', timeRange: october, where: { kind: 'compare', dimension: 'customer.channel', op: 'EQ', values: ['app'] } },
      { funnel: 'purchase_flow', timeRange: october, windowHours: 24 },
      { funnel: 'purchase_flow', timeRange: october, steps: [{ event: 'app_open' }, { event: 'purchase_success' }] },
    ];
    for (const query of cases)
      expect(matchFunnelRollup(planner.index, query, resolveFunnelQuery(planner.index, query), 10), JSON.stringify(query)).toBeUndefined();
  });

  it('refuses a funnel rollup of an unknown funnel, with metrics, or with periods finer than its partitions', () => {
    const bad = () =>
      buildCatalog({
        models: wealthModels,
        metrics: wealthMetrics,
        eventStream: wealthEventStream,
        funnels: wealthFunnels,
        rollups: [
          defineRollup({ name: 'nope', description: 'x', funnel: 'no_such_funnel', timeGrain: 'MONTH' }),
          defineRollup({ name: 'mixed', description: 'x', funnel: 'purchase_flow', metrics: ['purchase_amount'], timeGrain: 'MONTH' }),
          defineRollup({ name: 'daily', description: 'x', funnel: 'purchase_flow', timeGrain: 'DAY', partitionGrain: 'MONTH' }),
        ],
      });
    try {
      bad();
      expect.unreachable('the catalog was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(CatalogValidationError);
      expect((error as CatalogValidationError).problems.map((p) => `${p.path} ${p.code}`)).toEqual([
        'rollups.nope.funnel INVALID_ROLLUP',
        'rollups.mixed.metrics INVALID_ROLLUP',
        'rollups.daily.partitionGrain INVALID_ROLLUP',
      ]);
    }
  });
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every difference between two JSON values, numbers equal to 1e-9 relative. */
function jsonDifferences(actual: unknown, expected: unknown, at = ''): string[] {
  if (typeof actual === 'number' && typeof expected === 'number')
    return actual === expected || Math.abs(actual - expected) <= 1e-9 * Math.max(Math.abs(actual), Math.abs(expected))
      ? []
      : [`${at}: ${actual} vs ${expected}`];
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (actual.length !== expected.length) return [`${at}: ${actual.length} items vs ${expected.length}`];
    return actual.flatMap((a, i) => jsonDifferences(a, expected[i], `${at}[${i}]`));
  }
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    const keys = [...new Set([...Object.keys(actual), ...Object.keys(expected)])].filter((k) => k !== 'sql' && k !== 'freshness');
    return keys.flatMap((k) => jsonDifferences((actual as Record<string, Json>)[k], (expected as Record<string, Json>)[k], `${at}.${k}`));
  }
  return JSON.stringify(actual) === JSON.stringify(expected) ? [] : [`${at}: ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`];
}

await describeEachEngine('template dashboards from rollups answer what raw tables answer on %s', (engine) => {
  let database: TestDatabase;
  const fromRollups = createSemanticLayer(catalog, { maxRows: 100_000, subject: SUBJECT, rollupFreshness: rollupFreshnessCheck(catalog, SUBJECT) });
  const raw = createSemanticLayer(catalog, { maxRows: 100_000, subject: SUBJECT });
  const funnelRollups = concreteRollups(catalog).filter((r) => r.funnel !== undefined);
  let lastDay = LAST_DAY;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 400, seed: 29 });
    await materializeDomain(database, domain);
    // Only the rollups the dashboards read (and the funnel rollups): the full set takes minutes on PGlite.
    const needed = new Set(dashboardMetricQueries(fromRollups).map(({ query }) => fromRollups.plan(query).plan.rollup?.rollup as string));
    const outcome = await refreshRollups(database.db, catalog, { subject: SUBJECT, only: [...needed, ...funnelRollups.map((r) => r.name)] });
    expect(outcome.ran).toBe(true);
    lastDay = await dataLastCompleteDay(database.db, raw, new Date());
  }, 600_000);
  afterAll(() => database.dispose());

  it.each(wealthDashboards.map((d) => [d.key, d] as const))('dashboard %s: every tile from rollups, the same as raw', async (_key, dashboard) => {
    for (const tile of servedDashboard(dashboard, lastDay).tiles) {
      const title = `${dashboard.key}.${tile.key}`;
      if (tile.kind === 'METRIC') {
        const query = metricQueryOfJson(tile.query);
        const [a, b] = [await fromRollups.query(database.db, query, ANALYST), await raw.query(database.db, query, ANALYST)];
        expect(a.freshness.source, title).toBe('ROLLUP');
        expect(jsonDifferences([a.rows, a.suppressedRows], [b.rows, b.suppressedRows]), title).toEqual([]);
      } else if (tile.kind === 'FUNNEL') {
        const query = funnelQueryOfJson(tile.query);
        const [a, b] = [await fromRollups.funnel(database.db, query, ANALYST), await raw.funnel(database.db, query, ANALYST)];
        expect(a.freshness.source, title).toBe('ROLLUP');
        expect(b.groups.length, title).toBeGreaterThan(0);
        expect(jsonDifferences(a, b), title).toEqual([]);
      } else if (tile.kind === 'CHANGE') {
        const input = explainInputOfJson(tile.query);
        const a = await explainMetricChange(database.db, fromRollups, ANALYST, input);
        const b = await explainMetricChange(database.db, raw, ANALYST, input);
        expect(jsonDifferences(a, b), title).toEqual([]);
      } else
        for (const goal of await listGoals(database.db))
          expect(await goalActual(database.db, fromRollups, ANALYST, goal), `${title} ${goal.key}`).toEqual(await goalActual(database.db, raw, ANALYST, goal));
    }
  });

  it('answers each month of each stored funnel and grouping from its funnel rollup, customers and medians as raw events', async () => {
    const months = ['2025-11-01', '2025-12-01', '2026-01-01', '2026-04-01', '2026-07-01', '2026-09-01', '2026-10-01'];
    for (const rollup of funnelRollups)
      for (const from of months) {
        const query: FunnelQuery = {
          funnel: rollup.funnel as string,
          timeRange: { from, to: nextMonth(from) },
          groupBy: rollup.dimensions.map((dimension) => ({ dimension })),
        };
        const [a, b] = [await fromRollups.funnel(database.db, query), await raw.funnel(database.db, query)];
        expect(a.freshness.source, `${rollup.name} ${from}`).toBe('ROLLUP');
        expect(jsonDifferences(a, b), `${rollup.name} ${from}`).toEqual([]);
      }
    // Asked raw, or over two months: raw events answer.
    const october: FunnelQuery = { funnel: 'purchase_flow', timeRange: { from: '2026-10-01', to: '2026-11-01' } };
    expect((await fromRollups.funnel(database.db, { ...october, useRollups: false })).freshness.source).toBe('RAW');
    expect((await fromRollups.funnel(database.db, { ...october, timeRange: { from: '2026-09-01', to: '2026-11-01' } })).freshness.source).toBe('RAW');
    // A month after the data: no stored row, the same zero counts as raw events.
    const after: FunnelQuery = { funnel: 'purchase_flow', timeRange: { from: '2027-03-01', to: '2027-04-01' } };
    expect(jsonDifferences(await fromRollups.funnel(database.db, after), await raw.funnel(database.db, after))).toEqual([]);
  });

  it('after new events: the funnel months they can change answer raw until refreshed, then from the rollup again', async () => {
    const { rows: customers } = await sql<{ customer_id: string }>`SELECT customer_id FROM wealth.customers ORDER BY customer_id LIMIT 12`.execute(database.db);
    // Step 2 and 3 events early in October (Shanghai): they convert September entries within the 7-day window.
    const events = customers.flatMap((c, i) =>
      ['product_view', 'purchase_submit'].map((name, j) => ({
        eventId: `funnel-rollup-${engine}-${i}-${j}`,
        name,
        customerId: c.customer_id,
        occurredAt: `2026-10-0${1 + (i % 3)}T0${2 + j}:00:00.000Z`,
        channel: 'app',
        productId: 'P0001',
        properties: {},
        personalProperties: [],
      })),
    );
    const outcome = await ingestEvents(database, events as never);
    expect(outcome.accepted).toBe(events.length);
    const september: FunnelQuery = {
      funnel: 'purchase_flow',
      timeRange: { from: '2026-09-01', to: '2026-10-01' },
      groupBy: [{ dimension: 'customer.channel' }],
    };
    const august: FunnelQuery = { ...september, timeRange: { from: '2026-08-01', to: '2026-09-01' } };
    expect((await fromRollups.funnel(database.db, september)).freshness.source).toBe('RAW');
    expect((await fromRollups.funnel(database.db, august)).freshness.source).toBe('ROLLUP');
    const refreshed = await refreshRollups(database.db, catalog, { subject: SUBJECT, only: funnelRollups.map((r) => r.name) });
    expect(refreshed.partitions).toBeGreaterThan(0);
    const [a, b] = [await fromRollups.funnel(database.db, september), await raw.funnel(database.db, september)];
    expect(a.freshness.source).toBe('ROLLUP');
    expect(jsonDifferences(a, b)).toEqual([]);
  }, 600_000);
});

function nextMonth(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 10);
}
