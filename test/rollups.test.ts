import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { wealthModels } from '../domains/wealth/models.ts';
import { wealthMetrics, WEALTH_CORE_METRICS } from '../domains/wealth/metrics.ts';
import { wealthRollups } from '../domains/wealth/rollups.ts';
import { wealthTags } from '../domains/wealth/tags.ts';
import { wealthEventStream, wealthFunnels } from '../domains/wealth/funnels.ts';
import { buildCatalog } from '../modeling/catalog/build-catalog.ts';
import { concreteRollups } from '../modeling/catalog/rollups.ts';
import { defineRollup } from '../modeling/dsl/define-rollup.ts';
import { withTagDimensions } from '../modeling/tags/tag-dimensions.ts';
import { createSemanticLayer, type QueryAccess, type SemanticLayer } from '../modeling/semantic-layer.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import type { Catalog, Filter } from '../modeling/catalog/types.ts';
import { refreshRollups, rollupFreshnessCheck } from '../services/rollups.ts';
import { ingestEvents } from '../store/event-store.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { withContributorCounts } from '../modeling/privacy/contributor-catalog.ts';
import { rollupBuild } from '../modeling/plan/rollup-refresh.ts';
import { shareKey } from '../modeling/plan/rollup-share.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { CatalogValidationError } from '../modeling/catalog/validation-error.ts';
import { canonicalRows } from './support/canonical-rows.ts';

/**
 * Rollups answer exactly what raw tables answer. Every query of a matrix (core and derived
 * metrics, group-bys by month, quarter, week and day with and without a customer dimension
 * or tag, filters on stored and unstored dimensions, aligned and unaligned ranges) runs
 * from rollups and from raw tables and is compared row by row; queries a rollup cannot
 * answer exactly must be answered raw. Then new events arrive: stale partitions are
 * answered raw (or, for a rollup serving stale rows, say so), a partial refresh recomputes
 * only what changed, and the answers agree again.
 */
const SUBJECT = 'customer';

function testCatalog(): Catalog {
  const base = buildCatalog({
    models: wealthModels,
    metrics: wealthMetrics,
    eventStream: wealthEventStream,
    funnels: wealthFunnels,
    rollups: [
      ...wealthRollups,
      defineRollup({
        name: 'flows_daily',
        description: 'Derived and redemption metrics by day and channel (test).',
        metrics: ['net_inflow', 'redemption_amount'],
        dimensions: ['customer.channel'],
        timeGrain: 'DAY',
        partitionGrain: 'MONTH',
      }),
      defineRollup({
        name: 'clicks_served_stale',
        description: 'Placement clicks by month, served when stale (test).',
        metrics: ['placement_clicks'],
        dimensions: ['customer.gender', 'customer.channel'],
        timeGrain: 'MONTH',
        refresh: { whenStale: 'serve' },
      }),
    ],
  });
  return withTagDimensions(base, SUBJECT, wealthTags);
}

const month = { dimension: 'metric_time', grain: 'MONTH' } as const;
const quarter = { dimension: 'metric_time', grain: 'QUARTER' } as const;
const channel = { dimension: 'customer.channel' } as const;
const risk = { dimension: 'customer.risk_level' } as const;

const METRIC_SETS: readonly (readonly string[])[] = [
  ...WEALTH_CORE_METRICS.map((m) => [m]),
  ['purchase_conversion_rate', 'placement_ctr', 'purchase_amount'],
  ['net_inflow'],
];

const GROUPINGS: readonly NonNullable<MetricQuery['groupBy']>[] = [
  [month],
  [month, channel],
  [month, risk],
  [month, { dimension: 'customer.tag.aum_tier' }],
  [quarter, channel],
  [quarter],
  [],
  [channel],
  [{ dimension: 'metric_time', grain: 'WEEK' }],
  [{ dimension: 'metric_time', grain: 'DAY' }, channel],
];

const IN_APP_OR_WEB: Filter = { kind: 'compare', dimension: 'customer.channel', op: 'IN', values: ['app', 'web'] };
const BOND_FUNDS: Filter = { kind: 'compare', dimension: 'product.product_type', op: 'EQ', values: ['bond_fund'] };
const WHERES: readonly (Filter | undefined)[] = [undefined, IN_APP_OR_WEB, BOND_FUNDS];

const RANGES: readonly (MetricQuery['timeRange'] | undefined)[] = [
  { from: '2026-03-01', to: '2026-06-01' },
  undefined,
  { from: '2026-03-15T00:00:00', to: '2026-05-01' },
];

interface Case {
  readonly title: string;
  readonly query: MetricQuery;
}

const CASES: Case[] = [];
for (const metrics of METRIC_SETS)
  for (const [g, groupBy] of GROUPINGS.entries())
    for (const [w, where] of WHERES.entries())
      for (const [r, timeRange] of RANGES.entries()) {
        // The whole history and an unaligned range: by month, alone or by channel.
        if ((r === 1 && g > 1) || (r === 2 && g > 0)) continue;
        CASES.push({
          title: `${metrics.join('+')} grouping ${g} filter ${w} range ${r}`,
          query: { metrics: [...metrics], groupBy, ...(where ? { where } : {}), ...(timeRange ? { timeRange } : {}) },
        });
      }

type Row = Record<string, unknown>;

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Rows keyed by their dimension columns; every difference as a readable line. */
function differences(actual: readonly Row[], expected: readonly Row[], dimensions: readonly string[]): string[] {
  const key = (row: Row) => JSON.stringify(dimensions.map((d) => row[d] ?? null));
  const want = new Map(expected.map((row) => [key(row), row]));
  const problems: string[] = [];
  if (actual.length !== expected.length) problems.push(`${actual.length} rows, raw has ${expected.length}`);
  for (const row of actual) {
    const other = want.get(key(row));
    if (!other) {
      problems.push(`unexpected group ${key(row)}`);
      continue;
    }
    for (const [column, value] of Object.entries(row))
      if (!sameValue(value, other[column])) problems.push(`${key(row)} ${column}: ${JSON.stringify(value)}, raw ${JSON.stringify(other[column])}`);
  }
  return problems;
}

const ANALYST: QueryAccess = { clearance: 'internal', minSubjects: 10 };

describe('rollup declarations', () => {
  it('expands eachOf and customer.tag.* into one stored rollup per dimension, numeric tags left out', () => {
    const names = concreteRollups(testCatalog()).map((r) => r.name);
    expect(names).toContain('core_monthly');
    expect(names).toContain('core_monthly_by__customer__channel');
    expect(names).toContain('core_monthly_by__customer__tag__aum_tier');
    // Numeric tags are not expanded: a rollup by an amount would store a row per distinct amount.
    expect(names.filter((n) => n.includes('aum_amount') || n.includes('purchase_amount_90d'))).toEqual([]);
    expect(names).toContain('aum_daily_by__customer__risk_level');
  });

  it('shares one computation only between rollups of the same metrics and grains sliced by the customer', () => {
    const index = indexCatalog(withContributorCounts(testCatalog(), SUBJECT).catalog);
    const key = (name: string) => shareKey(index, concreteRollups(index.catalog).find((r) => r.name === name) ?? concreteRollups(index.catalog)[0]!, SUBJECT);
    const core = key('core_monthly');
    expect(core).toBeDefined();
    for (const name of ['core_monthly_by__customer__channel', 'core_monthly_by__customer__kyc_completed', 'core_monthly_by__customer__tag__aum_tier'])
      expect(key(name), name).toBe(core);
    expect(key('aum_daily_by__customer__channel')).toBe(key('aum_daily'));
    expect(key('aum_daily')).not.toBe(core);
    // Not the customer's dimensions (a placement, a product type, the transaction's channel): alone; no subject: alone.
    for (const name of ['placement_monthly_by__app_event__placement_id', 'aum_daily_by_product__product__product_type', 'flows_monthly__transaction__channel'])
      expect(key(name), name).toBeUndefined();
    expect(shareKey(index, concreteRollups(index.catalog)[0]!, undefined)).toBeUndefined();
  });

  it('refuses a rollup whose periods do not nest in its partitions, or a cumulative metric', () => {
    const bad = () =>
      buildCatalog({
        models: wealthModels,
        metrics: wealthMetrics,
        rollups: [
          defineRollup({ name: 'weekly', description: 'x', metrics: ['purchase_amount'], timeGrain: 'WEEK', partitionGrain: 'MONTH' }),
          defineRollup({ name: 'running', description: 'x', metrics: ['purchase_amount_30d'], timeGrain: 'DAY' }),
        ],
      });
    expect(bad).toThrow(CatalogValidationError);
    try {
      bad();
    } catch (error) {
      const codes = (error as CatalogValidationError).problems.map((p) => `${p.path} ${p.code}`);
      expect(codes).toEqual(['rollups.weekly.partitionGrain INVALID_ROLLUP', 'rollups.running.metrics INVALID_ROLLUP']);
    }
  });
});

await describeEachEngine('rollups answer what raw tables answer on %s', (engine) => {
  let database: TestDatabase;
  const catalog = testCatalog();
  const fromRollups: SemanticLayer = createSemanticLayer(catalog, {
    maxRows: 100_000,
    subject: SUBJECT,
    rollupFreshness: rollupFreshnessCheck(catalog, SUBJECT),
  });
  const raw: SemanticLayer = createSemanticLayer(catalog, { maxRows: 100_000, subject: SUBJECT });
  const answered = new Map<string, string>();

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 400, seed: 23 });
    await materializeDomain(database, bundledDomain());
    const outcome = await refreshRollups(database.db, catalog, { subject: SUBJECT });
    expect(outcome.ran).toBe(true);
    expect(outcome.rebuilt.length).toBe(concreteRollups(catalog).length);
  }, 600_000);
  afterAll(() => database.dispose());

  async function compare(query: MetricQuery, access?: QueryAccess): Promise<string> {
    let expected: Row[];
    try {
      expected = (await raw.query(database.db, query, access)).rows as Row[];
    } catch (error) {
      await expect(fromRollups.query(database.db, query, access)).rejects.toMatchObject({ code: (error as { code?: string }).code });
      return 'REFUSED';
    }
    const result = await fromRollups.query(database.db, query, access);
    expect(result.freshness.source === 'ROLLUP').toBe(result.plan.rollup !== undefined);
    expect(result.freshness.stale).toBe(false);
    const dimensions = result.columns.filter((c) => c.kind === 'DIMENSION').map((c) => c.name);
    expect(differences(result.rows as Row[], expected, dimensions)).toEqual([]);
    return result.freshness.source === 'ROLLUP' ? (result.freshness.rollup as string) : 'RAW';
  }

  it.each(CASES.map((c) => [c.title, c] as const))('%s', async (title, { query }) => {
    answered.set(title, await compare(query));
  });

  it('answers every core metric by month, alone and by a customer dimension or tag, from a rollup', () => {
    for (const metric of WEALTH_CORE_METRICS)
      for (const g of [0, 1, 2, 3]) {
        const title = `${metric} grouping ${g} filter 0 range 0`;
        expect(answered.get(title), title).not.toBe('RAW');
        expect(answered.get(title), title).not.toBe('REFUSED');
      }
    expect(answered.get('aum grouping 3 filter 0 range 0')).toBe('aum_daily_by__customer__tag__aum_tier');
    expect(answered.get('net_inflow grouping 9 filter 0 range 0')).toBe('flows_daily');
    expect(answered.get('net_inflow grouping 0 filter 0 range 0')).toBe('flows_monthly_total');
  });

  it('answers raw what no rollup answers exactly', () => {
    // A filter on a dimension no rollup stores (refused where the metric cannot reach it at all).
    for (const metric of WEALTH_CORE_METRICS) expect(['RAW', 'REFUSED']).toContain(answered.get(`${metric} grouping 1 filter 2 range 0`));
    for (const metric of ['purchase_amount', 'aum', 'purchasers']) expect(answered.get(`${metric} grouping 1 filter 2 range 0`)).toBe('RAW');
    // Distinct counts and conversions at a grain or dimensions other than a rollup's own.
    for (const metric of ['active_customers', 'purchasers', 'new_customers', 'revisit_rate_7d', 'first_purchase_success_rate']) {
      expect(answered.get(`${metric} grouping 4 filter 0 range 0`), metric).toBe('RAW');
      expect(answered.get(`${metric} grouping 1 filter 1 range 0`), metric).not.toBe('RAW');
    }
    // Sums roll up to quarters and over dimensions.
    expect(answered.get('purchase_amount grouping 4 filter 0 range 0')).toBe('core_monthly_by__customer__channel');
    expect(answered.get('purchase_amount grouping 5 filter 1 range 0')).toBe('core_monthly_by__customer__channel');
    // A range starting inside a month (a timestamp: not widened) is not made of whole stored months; AUM's days are.
    expect(answered.get('placement_impressions grouping 0 filter 0 range 2')).toBe('RAW');
    expect(answered.get('purchase_amount grouping 0 filter 0 range 2')).toBe('flows_daily');
    expect(answered.get('aum grouping 0 filter 0 range 2')).toBe('aum_daily');
  });

  it('answers one whole stored month without metric_time from the rollup, distinct counts and conversions included', async () => {
    const april = { from: '2026-04-01', to: '2026-05-01' };
    for (const metrics of [
      ['active_customers', 'purchasers'],
      ['purchase_conversion_rate'],
      ['revisit_rate_7d', 'first_purchase_success_rate'],
      ['placement_ctr'],
    ])
      for (const groupBy of [[], [channel], [{ dimension: 'customer.tag.aum_tier' }]] satisfies MetricQuery['groupBy'][])
        expect(await compare({ metrics, groupBy, timeRange: april }), `${metrics.join('+')} by ${groupBy.length}`).not.toBe('RAW');
    // Two months without metric_time: a distinct count is not the sum of its months.
    expect(await compare({ metrics: ['active_customers'], groupBy: [channel], timeRange: { from: '2026-04-01', to: '2026-06-01' } })).toBe('RAW');
  });

  it('reads rollups under small-cell protection like raw tables, contributor counts included', async () => {
    for (const query of [
      { metrics: ['purchase_amount', 'placement_ctr'], groupBy: [month, channel] },
      { metrics: ['aum'], groupBy: [month, risk], timeRange: { from: '2026-01-01', to: '2026-07-01' } },
      { metrics: ['revisit_rate_7d'], groupBy: [month, { dimension: 'customer.age_band' }] },
    ] satisfies MetricQuery[]) {
      expect(await compare(query, ANALYST)).not.toBe('RAW');
      const protectedRows = await fromRollups.query(database.db, query, ANALYST);
      const rawRows = await raw.query(database.db, query, ANALYST);
      expect(protectedRows.suppressedRows).toEqual(rawRows.suppressedRows);
    }
  });

  it('answers raw when asked to', async () => {
    const query: MetricQuery = { metrics: ['purchase_amount'], groupBy: [month, channel] };
    expect((await fromRollups.query(database.db, query)).freshness.source).toBe('ROLLUP');
    const result = await fromRollups.query(database.db, { ...query, useRollups: false });
    expect(result.freshness.source).toBe('RAW');
    expect(result.plan.rollup).toBeUndefined();
  });

  it('stores the same rows when rollups sharing a computation are refreshed together as when each runs its own statement', async () => {
    const family = concreteRollups(catalog)
      .filter((r) => r.declared.name === 'core_monthly' || r.declared.name === 'core_monthly_by' || r.declared.name.startsWith('aum_daily'))
      .map((r) => r.name);
    await sql`UPDATE rollups.partitions SET version = version + 1 WHERE rollup = ANY (${family})`.execute(database.db);
    const shared: number[] = [];
    const outcome = await refreshRollups(database.db, catalog, { subject: SUBJECT, only: family, onPartition: (p) => shared.push(p.shared) });
    expect(outcome.partitions).toBe(shared.length);
    // Several rollups per computation (core metrics by up to 8 dimensions, AUM by day by up to 4; product type is not the subject's: alone).
    expect(Math.max(...shared)).toBeGreaterThanOrEqual(8);
    expect(shared.filter((n) => n === 1).length).toBeLessThan(shared.length / 4);
    const counted = indexCatalog(withContributorCounts(catalog, SUBJECT).catalog);
    for (const name of family) {
      const build = rollupBuild(counted, name);
      const stored = await sql<Row>`SELECT * FROM ${sql.table(`rollups.${build.rollup.table}`)}`.execute(database.db);
      const own = await sql<Row>`SELECT * FROM (${build.statement({ from: '2000-01-01', to: '2100-01-01' })}) AS own`.execute(database.db);
      expect(stored.rows.length, name).toBeGreaterThan(0);
      expect(canonicalRows(stored.rows), name).toEqual(canonicalRows(own.rows));
    }
  }, 600_000);

  it('after new events: stale periods answer raw or say they are stale, a partial refresh recomputes only them', async () => {
    const before = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM rollups.partitions WHERE version > refreshed_version`.execute(database.db);
    expect(Number(before.rows[0]?.n)).toBe(0);
    const { rows: customers } = await sql<{
      customer_id: string;
      gender: string;
    }>`SELECT customer_id, gender FROM wealth.customers ORDER BY customer_id LIMIT 30`.execute(database.db);
    // Clicks and opens in April 2026 (Shanghai), from known customers.
    const events = customers.flatMap((c, i) => [
      {
        eventId: `rollup-click-${engine}-${i}`,
        name: 'placement_click',
        customerId: c.customer_id,
        occurredAt: `2026-04-1${i % 10}T03:00:00.000Z`,
        channel: 'app',
        placementId: 'home_banner',
        properties: {},
        personalProperties: [],
      },
      {
        eventId: `rollup-open-${engine}-${i}`,
        name: 'app_open',
        customerId: c.customer_id,
        occurredAt: `2026-04-2${i % 8}T03:00:00.000Z`,
        channel: 'app',
        properties: {},
        personalProperties: [],
      },
    ]);
    const outcome = await ingestEvents(database, events as never);
    expect(outcome.accepted).toBe(events.length);
    const april: MetricQuery = { metrics: ['placement_clicks'], groupBy: [month, channel], timeRange: { from: '2026-04-01', to: '2026-05-01' } };
    const january: MetricQuery = { metrics: ['placement_clicks'], groupBy: [month, channel], timeRange: { from: '2026-01-01', to: '2026-02-01' } };
    // April is stale: answered raw (policy `raw`), and right; January is untouched: still the rollup.
    const stale = await fromRollups.query(database.db, april);
    expect(stale.freshness.source).toBe('RAW');
    expect(await compare(april)).toBe('RAW');
    expect((await fromRollups.query(database.db, january)).freshness.source).toBe('ROLLUP');
    // A rollup serving stale rows answers from them and says so.
    const served: MetricQuery = {
      metrics: ['placement_clicks'],
      groupBy: [month, { dimension: 'customer.gender' }, channel],
      timeRange: { from: '2026-04-01', to: '2026-05-01' },
    };
    const old = await fromRollups.query(database.db, served);
    expect(old.freshness).toMatchObject({ source: 'ROLLUP', rollup: 'clicks_served_stale', stale: true });
    const fresh = await raw.query(database.db, served);
    expect(differences(old.rows as Row[], fresh.rows as Row[], ['metric_time__month', 'customer__gender', 'customer__channel'])).not.toEqual([]);
    // Partial refresh: one rollup, only its stale partitions (April, whose events are more than the 7-day revisit window
    // after March, and every later month: an earlier purchase_submit would make a later one no longer the first-ever).
    const later = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM rollups.partitions
      WHERE rollup = 'core_monthly_by__customer__channel' AND period_start >= DATE '2026-04-01'`.execute(database.db);
    const partial = await refreshRollups(database.db, catalog, { subject: SUBJECT, only: ['core_monthly_by__customer__channel'] });
    expect(partial.partitions).toBe(Number(later.rows[0]?.n));
    expect(partial.rebuilt).toEqual([]);
    expect(await compare(april)).toBe('core_monthly_by__customer__channel');
    expect(await compare({ metrics: ['revisit_rate_7d'], groupBy: [month, channel] })).toBe('core_monthly_by__customer__channel');
    // Others stay stale until refreshed: answered raw, right.
    expect(await compare({ metrics: ['placement_clicks'], groupBy: [month, risk] })).toBe('RAW');
    const asOf = (await fromRollups.query(database.db, january)).freshness.asOf;
    expect(Date.parse(asOf)).toBeLessThanOrEqual(Date.now());
    // A full refresh brings everything back, recomputing only stale partitions.
    const full = await refreshRollups(database.db, catalog, { subject: SUBJECT });
    const partitions = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM rollups.partitions`.execute(database.db);
    expect(full.partitions).toBeLessThan(Number(partitions.rows[0]?.n) / 3);
    for (const query of [
      served,
      { metrics: ['placement_clicks'], groupBy: [month, risk] },
      { metrics: ['revisit_rate_7d'], groupBy: [month] },
    ] satisfies MetricQuery[])
      expect(await compare(query)).not.toBe('RAW');
  }, 600_000);

  it('a second refresh at the same time finds the lock taken and does nothing', async () => {
    const [a, b] = await Promise.all([
      refreshRollups(database.db, catalog, { subject: SUBJECT, only: ['core_monthly'] }),
      refreshRollups(database.db, catalog, { subject: SUBJECT, only: ['core_monthly'] }),
    ]);
    // On PGlite (one connection) the two run one after the other; on PostgreSQL one may find the lock taken.
    expect([a.ran, b.ran]).toContain(true);
  });
});
