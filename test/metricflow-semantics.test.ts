import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import { createApp, type App } from '../api/app.ts';
import { createApiKey } from '../store/api-keys.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { loadSnapshots } from './conformance/load-snapshots.ts';
import { compareResults } from './conformance/compare-results.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

/**
 * MetricFlow's semantics on a small dbt project of our own (test/fixtures/shop): a daily
 * order fact partitioned by load day, customers, a daily store snapshot whose region
 * changes (reached from orders through customers), a monthly target fact and a day spine
 * with a custom granularity. Each query's rows must equal a hand-written SQL oracle that
 * spells out the rule from MetricFlow's documentation and source.
 */
const ROOT = resolve(import.meta.dirname, 'fixtures/shop');
const S = 'mf_shop';
const QUERY = 'query($q: MetricQueryInput!) { metrics(query: $q) { columns { name } rows sql } }';

interface Case {
  readonly title: string;
  readonly query: Record<string, unknown>;
  /** The expected rows, as SQL over the fixture tables. */
  readonly oracle: string;
  /** Columns when the oracle returns no rows to name them. */
  readonly minRows?: number;
}

const CASES: readonly Case[] = [
  {
    title: 'no metrics, metric_time by a date part: the distinct parts of the spine, not every spine day',
    query: { metrics: [], groupBy: [{ dimension: 'metric_time', datePart: 'DOW' }] },
    oracle: `SELECT DISTINCT CAST(extract(isodow FROM ds) AS integer) AS metric_time__extract_dow FROM ${S}.day_spine`,
    minRows: 7,
  },
  {
    title: 'no metrics, metric_time with dimensions of two models and a time range: the spine crosses the base model before the FULL join',
    query: {
      metrics: [],
      groupBy: [{ dimension: 'metric_time__day' }, { dimension: 'store__region' }, { dimension: 'customer__signup_ts__day' }],
      timeRange: { from: '2024-01-02', to: '2024-01-04' },
    },
    oracle: `SELECT DISTINCT CAST(t.ds AS date) AS metric_time__day, s.region AS store__region, CAST(date_trunc('day', c.signup_ts) AS date) AS customer__signup_ts__day
      FROM ${S}.dim_customers c CROSS JOIN ${S}.day_spine t
      FULL JOIN ${S}.dim_stores_daily s ON s.store_id = c.store_id
      WHERE t.ds >= '2024-01-02' AND t.ds < '2024-01-04'`,
    minRows: 10,
  },
  {
    title: 'no metrics and no time range: a store without customers keeps its row, without a period',
    query: { metrics: [], groupBy: [{ dimension: 'metric_time__month' }, { dimension: 'store__region' }, { dimension: 'customer__signup_ts__day' }] },
    oracle: `SELECT DISTINCT CAST(date_trunc('month', t.ds) AS date) AS metric_time__month, s.region AS store__region,
        CAST(date_trunc('day', c.signup_ts) AS date) AS customer__signup_ts__day
      FROM ${S}.dim_customers c CROSS JOIN ${S}.day_spine t
      FULL JOIN ${S}.dim_stores_daily s ON s.store_id = c.store_id`,
    minRows: 16,
  },
  {
    title: 'several metrics without a grain: metric_time at the coarsest of their default grains (week), every spine week filled',
    query: { metrics: ['orders_every_week', 'revenue'], groupBy: [{ dimension: 'metric_time' }] },
    oracle: `WITH weeks AS (SELECT DISTINCT CAST(date_trunc('week', ds) AS date) AS w FROM ${S}.day_spine),
      o AS (SELECT CAST(date_trunc('week', ds) AS date) AS w, SUM(1) AS n, SUM(amount) AS r FROM ${S}.fct_orders GROUP BY 1)
      SELECT weeks.w AS metric_time__week, COALESCE(o.n, 0) AS orders_every_week, o.r AS revenue FROM weeks LEFT JOIN o ON o.w = weeks.w`,
    minRows: 13,
  },
  {
    title: 'a cumulative metric joined to the time spine with fill_nulls_with: every spine day, 0 where its window is empty',
    query: { metrics: ['orders_last_2_days'], groupBy: [{ dimension: 'metric_time' }] },
    oracle: `SELECT CAST(s.ds AS date) AS metric_time__day,
        (SELECT COUNT(*) FROM ${S}.fct_orders o WHERE o.ds <= s.ds AND o.ds > s.ds - interval '2 days') AS orders_last_2_days
      FROM ${S}.day_spine s`,
    minRows: 91,
  },
  {
    title: 'a cumulative metric joined to the time spine within a time range: every day of the range',
    query: { metrics: ['orders_last_2_days'], groupBy: [{ dimension: 'metric_time__day' }], timeRange: { from: '2024-01-08', to: '2024-01-15' } },
    oracle: `SELECT CAST(s.ds AS date) AS metric_time__day,
        (SELECT COUNT(*) FROM ${S}.fct_orders o WHERE o.ds <= s.ds AND o.ds > s.ds - interval '2 days') AS orders_last_2_days
      FROM ${S}.day_spine s WHERE s.ds >= '2024-01-08' AND s.ds < '2024-01-15'`,
    minRows: 7,
  },
  {
    title: 'offset_to_grain queried by month and week at once: read on every spine day that starts a week or a month',
    query: { metrics: ['revenue_since_month_start'], groupBy: [{ dimension: 'metric_time__month' }, { dimension: 'metric_time__week' }] },
    oracle: `WITH a AS (SELECT CAST(date_trunc('month', ds) AS date) AS m, CAST(date_trunc('week', ds) AS date) AS w, SUM(amount) AS r FROM ${S}.fct_orders GROUP BY 1, 2),
      b AS (SELECT CAST(date_trunc('month', c.ds) AS date) AS m, CAST(date_trunc('week', c.ds) AS date) AS w, SUM(o.amount) AS r
        FROM ${S}.day_spine c JOIN ${S}.fct_orders o ON o.ds = date_trunc('month', c.ds)
        WHERE date_trunc('week', c.ds) = c.ds OR date_trunc('month', c.ds) = c.ds GROUP BY 1, 2)
      SELECT COALESCE(a.m, b.m) AS metric_time__month, COALESCE(a.w, b.w) AS metric_time__week, a.r - b.r AS revenue_since_month_start
      FROM a FULL JOIN b ON a.m = b.m AND a.w = b.w`,
    minRows: 10,
  },
  {
    title: 'nested offsets add up: a 3-day lag seen 7 days later reads the day 10 days before',
    query: { metrics: ['revenue_3_days_ago_a_week_before'], groupBy: [{ dimension: 'metric_time' }] },
    oracle: `SELECT CAST(s.ds AS date) AS metric_time__day, 2 * SUM(o.amount) AS revenue_3_days_ago_a_week_before
      FROM ${S}.day_spine s JOIN ${S}.fct_orders o ON o.ds = s.ds - interval '10 days' GROUP BY 1`,
    minRows: 5,
  },
  {
    title: 'a dimension two joins away matches the fact partition (no fan-out over snapshot days) and is named by its full entity path',
    query: { metrics: ['orders', 'revenue'], groupBy: [{ dimension: 'store__region' }] },
    oracle: `SELECT s.region AS customer__store__region, COUNT(*) AS orders, SUM(o.amount) AS revenue
      FROM ${S}.fct_orders o LEFT JOIN ${S}.dim_customers c ON c.customer_id = o.customer_id
      LEFT JOIN ${S}.dim_stores_daily s ON s.store_id = c.store_id AND s.ds_part = o.ds_part GROUP BY 1`,
    minRows: 4,
  },
  {
    title: 'two dimensions two joins away through one model to different models: each path joined as its own unit (MetricFlow)',
    query: { metrics: ['orders'], groupBy: [{ dimension: 'promo__channel__channel_name' }, { dimension: 'promo__partner__partner_name' }] },
    oracle: `SELECT a.channel_name AS promo__channel__channel_name, b.partner_name AS promo__partner__partner_name, COUNT(*) AS orders
      FROM ${S}.fct_orders o
      LEFT JOIN (SELECT l.promo_id, c.channel_name FROM ${S}.promo_links l LEFT JOIN ${S}.channels c ON c.channel_id = l.channel_id) a ON a.promo_id = o.promo_id
      LEFT JOIN (SELECT l.promo_id, p.partner_name FROM ${S}.promo_links l LEFT JOIN ${S}.partners p ON p.partner_id = l.partner_id) b ON b.promo_id = o.promo_id
      GROUP BY 1, 2`,
    minRows: 5,
  },
  {
    title: 'a custom granularity of a time dimension two joins away',
    query: { metrics: ['orders'], groupBy: [{ dimension: 'customer__store__opened_at__retail_period' }] },
    oracle: `SELECT CAST(sp.retail_period AS date) AS customer__store__opened_at__retail_period, COUNT(*) AS orders
      FROM ${S}.fct_orders o LEFT JOIN ${S}.dim_customers c ON c.customer_id = o.customer_id
      LEFT JOIN ${S}.dim_stores_daily s ON s.store_id = c.store_id AND s.ds_part = o.ds_part
      LEFT JOIN ${S}.day_spine sp ON sp.ds = date_trunc('day', s.opened_at) GROUP BY 1`,
    minRows: 2,
  },
  {
    title: 'a sub-daily time dimension of a joined model',
    query: { metrics: ['orders'], groupBy: [{ dimension: 'customer__signup_ts__minute' }] },
    oracle: `SELECT date_trunc('minute', c.signup_ts) AS customer__signup_ts__minute, COUNT(*) AS orders
      FROM ${S}.fct_orders o LEFT JOIN ${S}.dim_customers c ON c.customer_id = o.customer_id GROUP BY 1`,
    minRows: 3,
  },
  {
    title: 'a monthly and a daily measure by metric_time: grouped by month, the range widened to whole months',
    query: { metrics: ['sales_target', 'orders'], groupBy: [{ dimension: 'metric_time' }], timeRange: { from: '2024-01-15', to: '2024-02-16' } },
    oracle: `WITH t AS (SELECT CAST(month_start AS date) AS m, SUM(target) AS v FROM ${S}.fct_monthly_targets WHERE month_start >= '2024-01-01' AND month_start < '2024-03-01' GROUP BY 1),
      o AS (SELECT CAST(date_trunc('month', ds) AS date) AS m, COUNT(*) AS n FROM ${S}.fct_orders WHERE ds >= '2024-01-01' AND ds < '2024-03-01' GROUP BY 1)
      SELECT COALESCE(t.m, o.m) AS metric_time__month, t.v AS sales_target, o.n AS orders FROM t FULL JOIN o ON o.m = t.m`,
    minRows: 2,
  },
  {
    title: 'a monthly and a daily measure without metric_time: the range covers whole months of both',
    query: { metrics: ['sales_target', 'orders'], timeRange: { from: '2024-01-15', to: '2024-02-16' } },
    oracle: `SELECT (SELECT SUM(target) FROM ${S}.fct_monthly_targets WHERE month_start >= '2024-01-01' AND month_start < '2024-03-01') AS sales_target,
      (SELECT COUNT(*) FROM ${S}.fct_orders WHERE ds >= '2024-01-01' AND ds < '2024-03-01') AS orders`,
    minRows: 1,
  },
  {
    title: "a metric filter grouped through the measure's own entity (order__customer) joins on its last entity",
    query: { metrics: ['customer_count'], filter: "{{ Metric('revenue', group_by=['order__customer']) }} > 75" },
    oracle: `SELECT COUNT(DISTINCT c.customer_id) AS customer_count FROM ${S}.dim_customers c
      LEFT JOIN (SELECT customer_id, SUM(amount) AS r FROM ${S}.fct_orders GROUP BY 1) m ON m.customer_id = c.customer_id WHERE m.r > 75`,
    minRows: 1,
  },
];

await describeEachEngine('MetricFlow semantics on the shop fixture (%s)', (engine) => {
  let database: TestDatabase;
  let app: App;
  let url: string;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await loadSnapshots(database.db, resolve(ROOT, 'data'), S);
    app = await createApp(database, bundledDomain(), { dev: true, maxBodyBytes: 2_000_000, dbtProject: resolve(ROOT, 'manifest'), dbtSchema: S });
    url = `http://127.0.0.1:${await app.listen(0)}/graphql`;
    token = await createApiKey(database.db, 'mf-semantics', 'analyst');
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it.each(CASES.map((c) => [c.title, c] as const))('%s', async (_title, c) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: QUERY, variables: { q: c.query } }),
    });
    const body = (await response.json()) as {
      data?: { metrics: { columns: { name: string }[]; rows: Record<string, unknown>[]; sql: string } };
      errors?: { message: string }[];
    };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const result = body.data?.metrics;
    const expected = (await sql.raw(c.oracle).execute(database.db)).rows as Record<string, unknown>[];
    // The oracle itself must say something: an empty or tiny expectation would prove nothing.
    expect(expected.length).toBeGreaterThanOrEqual(c.minRows ?? 1);
    const problem = compareResults(
      result?.rows ?? [],
      expected,
      { actual: (result?.columns ?? []).map((col) => col.name), expected: Object.keys(expected[0] ?? {}) },
      false,
    );
    expect(problem, `${problem}\nSQL: ${result?.sql}`).toBeUndefined();
  });
});
