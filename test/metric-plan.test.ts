import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { explainPlan } from '../modeling/plan/explain-plan.ts';
import { importDbtProject } from '../modeling/dbt/import-dbt-project.ts';
import type { MetricPlan } from '../modeling/query/metric-plan.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';

/**
 * The plan as data: frozen, JSON-serializable, deterministic, naming catalog members only;
 * `metrics { plan }` gives it to analysts without physical names, to admins with them.
 */

const wealth = wealthCatalog();
const tables = wealth.models.flatMap((m) => ('table' in m.source ? [m.source.table] : []));
const MANIFEST = resolve(import.meta.dirname, '../../shared/conformance/metricflow/manifest');

describe('metric plan', () => {
  const layer = createSemanticLayer(wealth, { maxRows: 1000 });
  const query = {
    metrics: ['aum', 'purchase_amount', 'purchasers'],
    groupBy: [{ dimension: 'metric_time', grain: 'MONTH' as const }, { dimension: 'customer.channel' }],
    timeRange: { from: '2025-01-01', to: '2025-04-01' },
  };

  it('is frozen data that survives JSON and is the same for the same query', () => {
    const plan = layer.plan(query).plan;
    expect(Object.isFrozen(plan)).toBe(true);
    expect(Object.isFrozen(plan.nodes[0])).toBe(true);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    const again = createSemanticLayer(wealth, { maxRows: 1000 }).plan(query).plan;
    expect(JSON.stringify(again)).toBe(JSON.stringify(plan));
  });

  it('names nodes, their inputs, time, joins and rewrites, and no physical table', () => {
    const plan = layer.plan(query).plan;
    const text = JSON.stringify(plan);
    for (const table of tables) expect(text).not.toContain(table);
    const kinds = plan.nodes.map((n) => n.kind);
    expect(kinds.every((k) => k === 'aggregate')).toBe(true);
    const aum = plan.nodes.find((n) => n.kind === 'aggregate' && n.nonAdditive);
    expect(aum).toMatchObject({ kind: 'aggregate', model: 'holding', timeDimension: 'as_of', nonAdditive: { dimension: 'as_of', window: 'max' } });
    expect(aum?.joins).toEqual([{ path: 'customer', model: 'customer' }]);
    expect(plan.rewrites).toContainEqual({ rewrite: 'semi_additive', node: aum?.id, dimension: 'as_of', window: 'max' });
    expect(plan.metrics.map((m) => m.name)).toEqual(query.metrics);
    for (const m of plan.metrics) expect(['column', 'fill', 'ratio']).toContain(m.value.kind);
  });

  it('plans a metric filter as a subquery of its own', () => {
    const dbt = createSemanticLayer(importDbtProject(MANIFEST, { schema: 'mf' }).catalog, { maxRows: 1000 });
    const plan = dbt.plan({
      metrics: ['bookings'],
      groupBy: [{ dimension: 'metric_time__day' }],
      where: { kind: 'metric', metric: 'listings', groupBy: ['listing'], op: 'GT', values: ['2'] },
    }).plan;
    expect(plan.subqueries).toHaveLength(1);
    expect(plan.subqueries[0]).toMatchObject({ metric: 'listings', groupBy: ['listing'] });
    expect(plan.subqueries[0]?.plan.metrics.map((m) => m.name)).toEqual(['listings']);
    expect(plan.rewrites).toContainEqual({ rewrite: 'metric_filter_subquery', metric: 'listings', groupBy: ['listing'] });
    expect(explainPlan(plan)).toContain("subquery Metric('listings', [listing]):");
  });

  it('explains a derived metric with an offset readably', () => {
    const dbt = createSemanticLayer(importDbtProject(MANIFEST, { schema: 'mf' }).catalog, { maxRows: 1000 });
    const text = explainPlan(dbt.plan({ metrics: ['bookings_growth_2_weeks'], groupBy: [{ dimension: 'metric_time__day' }] }).plan);
    expect(text).toContain('offset: 14 days earlier');
    expect(text).toMatch(/bookings_growth_2_weeks = \(n\d\.l\d - n\d\.l\d\)/);
  });
});

describe('metrics { plan } over the API', () => {
  let server: DemoServer<'analyst' | 'admin'>;
  const { ok } = graphqlClient(() => server.base);
  const PLAN = `query($q: MetricQueryInput!) { metrics(query: $q) { plan sql } }`;
  const q = { metrics: ['aum'], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.channel' }] };

  beforeAll(async () => {
    server = await startDemoServer('pglite', { customers: 40, seed: 5, keys: { analyst: ['plan-analyst', 'analyst'], admin: ['plan-admin', 'admin'] } });
  }, 300_000);
  afterAll(() => server?.close());

  it('gives analysts the plan without physical names and admins the sources too', async () => {
    const analyst = (await ok(server.keys.analyst, PLAN, { q })).metrics as { plan: MetricPlan & { sources?: unknown }; sql: string | null };
    expect(analyst.plan.nodes[0]).toMatchObject({ kind: 'aggregate', model: 'holding' });
    expect(analyst.plan.sources).toBeUndefined();
    const text = JSON.stringify(analyst.plan);
    for (const table of tables) expect(text).not.toContain(table);
    const admin = (await ok(server.keys.admin, PLAN, { q })).metrics as { plan: MetricPlan & { sources?: Record<string, string> } };
    expect(admin.plan.sources).toEqual({ customer: 'wealth.customers', holding: 'wealth.holdings_daily' });
    expect({ ...admin.plan, sources: undefined }).toEqual({ ...analyst.plan, sources: undefined });
  });
});
