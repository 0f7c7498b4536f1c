import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import { createApp, type App } from '../api/app.ts';
import { createApiKey } from '../store/api-keys.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { compareResults } from './conformance/compare-results.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { importDbtProject } from '../modeling/dbt/import-dbt-project.ts';
import { checkDbtProject } from '../api/dbt-check.ts';
import { graphqlClient } from './support/graphql-client.ts';

/**
 * A dbt project of our own in the authoring form (test/fixtures/bakery): `dbt_project.yml`
 * with a `+schema` for one folder, `ref('orders')` to a model aliased by its SQL `config()`,
 * `ref('bakery', 'customers')` to a model aliased in YAML, a dbt 1.9 `time_spine:` model
 * with a custom granularity (the Wednesday-to-Tuesday baking week), groups owning
 * definitions, approximate percentiles served exact, a saved query with an export. The same
 * project compiled (`semantic_manifest.json`, in the shape `dbt parse` writes) must give
 * the same rows. The test builds the tables; every query is compared with hand-written SQL.
 */
const ROOT = resolve(import.meta.dirname, 'fixtures/bakery');
const MANIFEST = resolve(ROOT, 'target/semantic_manifest.json');
const S = 'bakery';
const CAL = 'bakery_calendar';
const QUERY = 'query($q: MetricQueryInput!) { metrics(query: $q) { columns { name } rows sql } }';

const ORDERS: readonly (readonly [string, string | null, string, string, string, number])[] = [
  ['o01', 'c1', 'high_street', '2025-01-01 08:10', '12.50', 2],
  ['o02', 'c2', 'market_square', '2025-01-01 09:00', '4.20', 1],
  ['o03', 'c3', 'high_street', '2025-01-02 10:30', '30.00', 5],
  ['o04', 'c1', 'market_square', '2025-01-03 07:45', '7.80', 1],
  ['o05', 'c4', 'high_street', '2025-01-06 16:20', '18.00', 3],
  ['o06', 'c2', 'high_street', '2025-01-07 12:00', '3.50', 0],
  ['o07', 'c3', 'market_square', '2025-01-08 08:05', '22.40', 4],
  ['o08', 'c1', 'high_street', '2025-01-08 17:30', '9.90', 2],
  ['o09', 'c4', 'market_square', '2025-01-13 11:11', '15.00', 2],
  ['o10', 'c2', 'high_street', '2025-01-15 08:00', '6.60', 1],
  ['o11', 'c3', 'high_street', '2025-01-20 09:40', '41.00', 6],
  ['o12', 'c1', 'market_square', '2025-01-22 10:10', '5.25', 1],
  ['o13', 'c4', 'high_street', '2025-02-03 13:00', '27.30', 4],
  ['o14', 'c2', 'market_square', '2025-02-05 15:45', '8.10', 1],
  ['o15', null, 'high_street', '2025-02-05 16:00', '2.40', 0],
  ['o16', 'c3', 'market_square', '2025-02-12 08:30', '19.95', 3],
];
const CUSTOMERS = [
  ['c1', '2024-11-02', 'gold'],
  ['c2', '2024-12-15', 'silver'],
  ['c3', '2025-01-02', 'gold'],
  ['c4', '2025-01-05', 'bronze'],
] as const;

async function buildTables(database: TestDatabase): Promise<void> {
  const run = (text: string) => sql.raw(text).execute(database.db);
  await run(`CREATE SCHEMA ${S}`);
  await run(`CREATE SCHEMA ${CAL}`);
  await run(`CREATE TABLE ${S}.fct_orders (order_id text, customer_id text, shop text, ordered_at timestamp, amount numeric(10, 2), loaves integer)`);
  await run(`CREATE TABLE ${S}.dim_customers (customer_id text, joined_at date, loyalty_tier text)`);
  // As models/calendar/all_days.sql builds it: the baking week starts on Wednesday.
  await run(`CREATE TABLE ${CAL}.all_days AS SELECT d::date AS date_day, (d::date - ((extract(isodow FROM d)::int + 4) % 7))::date AS baking_week_start
    FROM generate_series(date '2025-01-01', date '2025-12-31', interval '1 day') AS d`);
  await sql`INSERT INTO ${sql.table(`${S}.fct_orders`)} VALUES ${sql.join(ORDERS.map((o) => sql`(${sql.join(o)})`))}`.execute(database.db);
  await sql`INSERT INTO ${sql.table(`${S}.dim_customers`)} VALUES ${sql.join(CUSTOMERS.map((c) => sql`(${sql.join(c)})`))}`.execute(database.db);
}

interface Case {
  readonly title: string;
  readonly query: Record<string, unknown>;
  readonly oracle: string;
  readonly minRows: number;
}

const CASES: readonly Case[] = [
  {
    title: 'simple metrics by day (a sum, a count of rows, a sum filled with 0)',
    query: { metrics: ['revenue', 'orders', 'loaves_sold'], groupBy: [{ dimension: 'metric_time__day' }] },
    oracle: `SELECT CAST(ordered_at AS date) AS metric_time__day, SUM(amount) AS revenue, COUNT(*) AS orders, SUM(loaves) AS loaves_sold
      FROM ${S}.fct_orders GROUP BY 1`,
    minRows: 12,
  },
  {
    title: 'a dimension reached through the customer entity, walk-ins (no card) under null',
    query: { metrics: ['revenue', 'orders'], groupBy: [{ dimension: 'customer__loyalty_tier' }] },
    oracle: `SELECT c.loyalty_tier AS customer__loyalty_tier, SUM(o.amount) AS revenue, COUNT(*) AS orders
      FROM ${S}.fct_orders o LEFT JOIN ${S}.dim_customers c ON c.customer_id = o.customer_id GROUP BY 1`,
    minRows: 4,
  },
  {
    title: 'approximate percentiles served as exact continuous percentiles',
    query: { metrics: ['median_basket', 'basket_p90'], groupBy: [{ dimension: 'order__shop' }] },
    oracle: `SELECT shop AS order__shop, percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS median_basket,
        percentile_cont(0.9) WITHIN GROUP (ORDER BY amount) AS basket_p90 FROM ${S}.fct_orders GROUP BY 1`,
    minRows: 2,
  },
  {
    title: 'the custom granularity of the time spine model: baking weeks from Wednesday',
    query: { metrics: ['revenue'], groupBy: [{ dimension: 'metric_time__baking_week' }] },
    oracle: `SELECT s.baking_week_start AS metric_time__baking_week, SUM(o.amount) AS revenue
      FROM ${S}.fct_orders o JOIN ${CAL}.all_days s ON s.date_day = CAST(o.ordered_at AS date) GROUP BY 1`,
    minRows: 6,
  },
  {
    title: 'a metric filter on a dimension of the joined customer, by month',
    query: { metrics: ['gold_revenue'], groupBy: [{ dimension: 'metric_time__month' }] },
    oracle: `SELECT CAST(date_trunc('month', o.ordered_at) AS date) AS metric_time__month, SUM(o.amount) AS gold_revenue
      FROM ${S}.fct_orders o JOIN ${S}.dim_customers c ON c.customer_id = o.customer_id WHERE c.loyalty_tier = 'gold' GROUP BY 1`,
    minRows: 2,
  },
  {
    title: 'a ratio of two metrics by shop',
    query: { metrics: ['average_basket'], groupBy: [{ dimension: 'order__shop' }] },
    oracle: `SELECT shop AS order__shop, SUM(amount) / COUNT(*) AS average_basket FROM ${S}.fct_orders GROUP BY 1`,
    minRows: 2,
  },
  {
    title: 'the saved query: revenue and orders of card holders by shop and baking week',
    query: { metrics: [], savedQuery: 'revenue_by_shop' },
    oracle: `SELECT o.shop AS order__shop, s.baking_week_start AS metric_time__baking_week, SUM(o.amount) AS revenue, COUNT(*) AS orders
      FROM ${S}.fct_orders o JOIN ${CAL}.all_days s ON s.date_day = CAST(o.ordered_at AS date)
      JOIN ${S}.dim_customers c ON c.customer_id = o.customer_id WHERE c.loyalty_tier IS NOT NULL GROUP BY 1, 2`,
    minRows: 9,
  },
];

describe('the bakery project read as its authors write it', () => {
  const { catalog, refused, notes, format, projectName } = importDbtProject(ROOT, { schema: S });

  it('resolves ref() through dbt_project.yml, SQL config() and YAML config', () => {
    expect(format).toBe('project');
    expect(projectName).toBe('bakery');
    expect(catalog.models.map((m) => [m.name, 'table' in m.source ? m.source.table : ''])).toEqual([
      ['orders', 'bakery.fct_orders'],
      ['customers', 'bakery.dim_customers'],
    ]);
    expect(catalog.timeSpines).toEqual([
      { table: 'bakery_calendar.all_days', column: 'date_day', grain: 'DAY', customGranularities: [{ name: 'baking_week', column: 'baking_week_start' }] },
    ]);
  });

  it('gives owners from groups and meta, sensitivity classes from meta, and says what it serves differently', () => {
    const owner = (name: string) => catalog.metrics.find((m) => m.name === name)?.owner;
    expect([owner('revenue'), owner('gold_revenue'), owner('orders')]).toEqual(['books@bakery.example', 'head-baker', 'dbt']);
    expect(catalog.models.find((m) => m.name === 'orders')?.owner).toBe('Counter staff');
    expect(catalog.models.find((m) => m.name === 'orders')?.entities?.find((e) => e.name === 'customer')?.sensitivity).toBe('personal');
    expect(refused).toEqual([]);
    expect(notes.map((n) => [n.code, n.path])).toEqual([
      ['EXACT_PERCENTILE', 'models/semantic/orders.yml: semantic_models[0].measures[3].agg_params.use_approximate_percentile'],
      ['EXACT_PERCENTILE', 'models/semantic/orders.yml: semantic_models[0].measures[4].agg_params.use_approximate_percentile'],
      ['EXPORT_NOT_RUN', 'models/semantic/saved_queries.yml: saved_queries[0].exports[0]'],
    ]);
    expect(catalog.metrics.find((m) => m.name === 'median_basket')?.description).toContain('exact percentile');
  });

  it('dbt check lists what it holds, what it serves differently and what it refuses', () => {
    const lines: string[] = [];
    expect(checkDbtProject(ROOT, S, (l) => lines.push(l))).toBe(0);
    const text = lines.join('\n');
    expect(text).toContain('2 semantic models, 8 metrics');
    expect(text).toContain('1 time spines (custom granularities: baking_week)');
    expect(text).toMatch(/served differently or not read: 3\n.*use_approximate_percentile: measure 'median_basket': served with the exact percentile/);
    expect(text).toContain('refused nothing');
  });

  it('reads the compiled semantic_manifest.json into the same catalog', () => {
    const compiled = importDbtProject(MANIFEST, { schema: S });
    expect(compiled.format).toBe('manifest');
    // Groups are a dbt-core notion the semantic manifest does not carry: owners aside, the same definitions.
    const unowned = <T extends { owner: string }>(list: readonly T[]) => list.map(({ owner: _, ...rest }) => rest);
    expect(unowned(compiled.catalog.models)).toEqual(unowned(catalog.models));
    expect(unowned(compiled.catalog.metrics)).toEqual(unowned(catalog.metrics));
    expect(compiled.catalog.metrics.find((m) => m.name === 'gold_revenue')?.owner).toBe('head-baker');
    expect(compiled.catalog.timeSpines).toEqual(catalog.timeSpines);
    expect(compiled.catalog.savedQueries).toEqual(catalog.savedQueries);
    expect(compiled.notes.map((n) => n.code)).toEqual(['EXACT_PERCENTILE', 'EXACT_PERCENTILE', 'EXPORT_NOT_RUN']);
  });
});

await describeEachEngine('the bakery project served on %s', (engine) => {
  let database: TestDatabase;
  const apps: Record<string, { app: App; url: string }> = {};
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await buildTables(database);
    token = await createApiKey(database.db, 'bakery', 'analyst');
    for (const [format, project] of [
      ['project', ROOT],
      ['manifest', MANIFEST],
    ] as const) {
      const app = await createApp(database, bundledDomain(), { dev: true, maxBodyBytes: 2_000_000, dbtProject: project, dbtSchema: S });
      apps[format] = { app, url: `http://127.0.0.1:${await app.listen(0)}` };
    }
  }, 240_000);

  afterAll(async () => {
    for (const { app } of Object.values(apps)) await app.close();
    await database?.dispose();
  });

  it.each(CASES.flatMap((c) => (['project', 'manifest'] as const).map((f) => [`${c.title} (${f})`, c, f] as const)))('%s', async (_title, c, format) => {
    const data = await graphqlClient(() => apps[format]?.url ?? '').ok(token, QUERY, { q: c.query });
    const result = data.metrics as { columns: { name: string }[]; rows: Record<string, unknown>[]; sql: string } | undefined;
    const expected = (await sql.raw(c.oracle).execute(database.db)).rows as Record<string, unknown>[];
    expect(expected.length).toBeGreaterThanOrEqual(c.minRows);
    const problem = compareResults(
      result?.rows ?? [],
      expected,
      { actual: (result?.columns ?? []).map((col) => col.name), expected: Object.keys(expected[0] ?? {}) },
      false,
    );
    expect(problem, `${problem}\nSQL: ${result?.sql}`).toBeUndefined();
  });

  it('refuses a personal entity to an analyst, as its meta says', async () => {
    const body = await graphqlClient(() => apps.project?.url ?? '').post(token, QUERY, {
      q: { metrics: ['revenue'], groupBy: [{ dimension: 'customer' }] },
    });
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
