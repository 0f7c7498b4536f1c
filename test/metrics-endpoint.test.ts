import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.ts';
import { DEFAULT_RATE_LIMITS } from '../api/rate-limiter.ts';
import { testEngines } from './support/engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { eventBatch } from './support/event-batches.ts';
import { parsePrometheusText, sampleValue, type Sample } from './support/prometheus-text.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

/**
 * `/metrics` for Prometheus: what an operator graphs and alerts on (request rate and latency
 * per operation class and root field, errors by code, rate limits, pool and analytics lane
 * use, event ingestion, materialization runs, personal-data reads, the Node process), in a
 * valid exposition, without free text in labels, and only for scrapers allowed to read it.
 */
describe.each(await testEngines())('/metrics on %s', (engine) => {
  let server: DemoServer<'operator' | 'analyst' | 'app'>;
  const gql = graphqlClient(() => server.base);
  const scrape = async (): Promise<Sample[]> => {
    const response = await fetch(`${server.base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await response.text());
  };

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 300,
      seed: 11,
      keys: { operator: ['metrics-operator', 'operator'], analyst: ['metrics-analyst', 'analyst'], app: ['metrics-app', 'app'] },
      app: { rateLimits: { ...DEFAULT_RATE_LIMITS, catalog: { perSecond: 0.01, burst: 1 } } },
    });
    await gql.ok(server.keys.operator, 'mutation { materializeTags { status } }');
  });
  afterAll(async () => server.close());

  it('counts a request by route, operation class, root field and status, and the work behind it', async () => {
    const before = await scrape();
    const profile = await gql.ok(server.keys.operator, 'query SecretName123 { customer(id: "c000001") { id } }');
    expect(profile.customer).toEqual({ id: 'c000001' });
    const batch = [...eventBatch(`metrics-${engine}`, 3), eventBatch(`metrics-${engine}`, 1)[0], { ...eventBatch('x', 1)[0], name: 'no_such_event' }];
    const events = await fetch(`${server.base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.keys.operator}` },
      body: JSON.stringify(batch),
    });
    expect(await events.json()).toMatchObject({ accepted: 3, duplicates: 1, rejected: [{ code: 'UNKNOWN_EVENT' }] });
    expect((await gql.post(server.keys.analyst, '{ catalog { metrics { name } } }')).errors).toBeUndefined();
    expect((await gql.post(server.keys.analyst, '{ catalog { metrics { name } } }')).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const after = await scrape();

    const change = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    const profileRequest = { route: '/graphql', operation_class: 'profiles', operation: 'customer', status: '200' };
    expect(change('strata_http_request_duration_seconds_count', profileRequest)).toBe(1);
    expect(change('strata_http_request_duration_seconds_bucket', { ...profileRequest, le: '+Inf' })).toBe(1);
    expect(change('strata_http_request_duration_seconds_count', { route: '/v1/events', operation_class: '', operation: '', status: '200' })).toBe(1);
    expect(change('strata_http_request_duration_seconds_count', { route: '/graphql', operation_class: 'catalog', operation: 'catalog', status: '429' })).toBe(
      1,
    );
    expect(change('strata_events_ingested_total', { outcome: 'accepted', code: '' })).toBe(3);
    expect(change('strata_events_ingested_total', { outcome: 'duplicate', code: '' })).toBe(1);
    expect(change('strata_events_ingested_total', { outcome: 'rejected', code: 'UNKNOWN_EVENT' })).toBe(1);
    expect(change('strata_personal_data_reads_total', { operation: 'customer' })).toBe(1);
    expect(change('strata_personal_data_customers_read_total', { operation: 'customer' })).toBe(1);
    expect(change('strata_rate_limited_requests_total', { route: '/graphql', operation_class: 'catalog' })).toBe(1);
    expect(change('strata_graphql_errors_total', { code: 'RATE_LIMITED' })).toBe(1);

    const text = await (await fetch(`${server.base}/metrics`)).text();
    expect(text).not.toMatch(/SecretName123|c000001|metrics-operator|metrics-analyst/);
  });

  it("times a decision's waits for its profile read and its impression commit", async () => {
    const before = await scrape();
    const decided = await gql.ok(server.keys.app, 'mutation { decide(customerId: "c000002", placements: ["home_banner", "wealth_mall_top"]) { decisionId } }');
    expect((decided.decide as unknown[]).length).toBe(2);
    const after = await scrape();
    for (const stage of ['profile_read', 'impression_write'])
      expect(sampleValue(after, 'strata_decide_stage_seconds_count', { stage }) - sampleValue(before, 'strata_decide_stage_seconds_count', { stage })).toBe(1);
  });

  it('reports materialization runs, the analytics lane, the pools and the Node process', async () => {
    const samples = await scrape();
    expect(sampleValue(samples, 'strata_materialization_runs', { status: 'published' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'strata_materialization_runs', { status: 'failed' })).toBe(0);
    expect(samples.some((s) => s.name === 'strata_analytics_lane_running')).toBe(true);
    expect(sampleValue(samples, 'strata_analytics_lane_waiting')).toBe(0);
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    const pools = samples.filter((s) => s.name === 'strata_db_pool_connections');
    if (engine === 'postgres') {
      expect(new Set(pools.map((s) => s.labels.pool))).toEqual(new Set(['main', 'analytics', 'probe']));
      expect(sampleValue(samples, 'strata_db_pool_connections', { pool: 'main', state: 'total' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'strata_db_pool_connections', { pool: 'main', state: 'waiting' })).toBe(0);
    } else {
      expect(pools).toEqual([]);
    }
  });

  it('refuses scrapes through a proxy without a token, and demands the token once one is set', async () => {
    const proxied = await fetch(`${server.base}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(403);
    expect(await proxied.text()).not.toMatch(/strata_/);

    const guarded = await createApp(server.database, bundledDomain(), { dev: false, maxBodyBytes: 1_000, metricsToken: METRICS_TOKEN });
    try {
      const at = `http://127.0.0.1:${await guarded.listen(0)}/metrics`;
      const none = await fetch(at);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="strata-metrics"');
      const wrong = await fetch(at, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
      const right = await fetch(at, { headers: { authorization: `Bearer ${METRICS_TOKEN}`, 'x-forwarded-for': '203.0.113.9' } });
      expect(right.status).toBe(200);
      expect(parsePrometheusText(await right.text()).some((s) => s.name === 'strata_http_request_duration_seconds_count')).toBe(true);
    } finally {
      await guarded.close();
    }
  });
});

describe('metrics configuration', () => {
  it('reads STRATA_METRICS_TOKEN and refuses a short one', async () => {
    const { loadConfig } = await import('../api/config.ts');
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ STRATA_METRICS_TOKEN: METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN);
    expect(() => loadConfig({ STRATA_METRICS_TOKEN: 'short' })).toThrow(/STRATA_METRICS_TOKEN: must be at least 16 characters/);
  });
});
