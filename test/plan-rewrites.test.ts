import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { createSemanticLayer, type SemanticLayer } from '../modeling/semantic-layer.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import type { Filter } from '../modeling/catalog/types.ts';
import { CONTRIBUTORS, withContributorCounts } from '../modeling/privacy/contributor-catalog.ts';

/**
 * The compiler's faster plan shapes (one pass for measures of a model, probed
 * semi-additive periods, aggregated conversion anchors, plain counts of a primary key,
 * one node for semi-additive measures of one rule and for conversions computing the same)
 * must return exactly the rows of the generic shapes. Every query of a matrix of metrics,
 * group-bys, filters and ranges runs both ways on the demo data and is compared row by row.
 */
const METRIC_SETS: readonly (readonly string[])[] = [
  ['aum'],
  ['first_purchase_success_rate'],
  ['revisit_rate_7d'],
  ['placement_ctr', 'active_customers', 'placement_clicks'],
  ['new_customers'],
  // Distinct customers alone: by customer dimensions the (period, customer) pairs are found first, then joined.
  ['active_customers'],
  ['purchasers'],
  ['purchase_amount', 'public_fund_purchase_amount', 'purchasers', 'redemption_amount'],
  // With the hidden contributor counts small-cell protection adds: AUM and its holders share
  // one semi-additive pass, a conversion rate and its converted customers one conversion node.
  ['aum', `${CONTRIBUTORS}aum`],
  ['revisit_rate_7d', `${CONTRIBUTORS}revisit_rate_7d`],
  ['first_purchase_success_rate', `${CONTRIBUTORS}first_purchase_success_rate`],
  // Counts of two events and the distinct customers of each: partial counts per (group, customer) pair, added up.
  ['placement_ctr', `${CONTRIBUTORS}placement_ctr`],
];

const month = { dimension: 'metric_time', grain: 'MONTH' } as const;
const GROUPINGS: readonly MetricQuery['groupBy'][] = [
  [],
  [month],
  [{ dimension: 'metric_time', grain: 'WEEK' }, { dimension: 'customer.risk_level' }],
  [{ dimension: 'metric_time', grain: 'QUARTER' }, { dimension: 'customer.channel' }],
  [{ dimension: 'customer.age_band' }],
  [month, { dimension: 'product.product_type' }],
  // By month and a dimension the customer fixes: a statement split by month (first-in-period anchors found per month).
  [month, { dimension: 'customer.risk_level' }],
];

const WHERES: readonly (Filter | undefined)[] = [
  undefined,
  { kind: 'compare', dimension: 'customer.channel', op: 'IN', values: ['app', 'web'] },
  { kind: 'compare', dimension: 'product.product_type', op: 'EQ', values: ['bond_fund'] },
];

const RANGE = { from: '2026-03-01', to: '2026-06-01' };

interface Case {
  readonly title: string;
  readonly query: MetricQuery;
}

const CASES: Case[] = [];
for (const metrics of METRIC_SETS) {
  for (const [g, groupBy] of GROUPINGS.entries()) {
    for (const [w, where] of WHERES.entries()) {
      CASES.push({
        title: `${metrics.join('+')} grouping ${g} filter ${w}`,
        query: { metrics: [...metrics], groupBy, timeRange: RANGE, ...(where ? { where } : {}) },
      });
    }
  }
  // Without a time range (the whole history), and by day over a short one.
  CASES.push({ title: `${metrics.join('+')} by month, all time`, query: { metrics: [...metrics], groupBy: [month] } });
  CASES.push({ title: `${metrics.join('+')} in total, all time`, query: { metrics: [...metrics] } });
  CASES.push({
    title: `${metrics.join('+')} by day`,
    query: { metrics: [...metrics], groupBy: [{ dimension: 'metric_time', grain: 'DAY' }], timeRange: { from: '2026-05-20', to: '2026-06-03' } },
  });
}

type Row = Record<string, unknown>;

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  return a === b;
}

/** Rows keyed by their dimension columns; every difference as a readable line. */
function differences(actual: readonly Row[], expected: readonly Row[], dimensions: readonly string[]): string[] {
  const key = (row: Row) => JSON.stringify(dimensions.map((d) => row[d] ?? null));
  const want = new Map(expected.map((row) => [key(row), row]));
  const problems: string[] = [];
  if (actual.length !== expected.length) problems.push(`${actual.length} rows, generic plan has ${expected.length}`);
  for (const row of actual) {
    const other = want.get(key(row));
    if (!other) {
      problems.push(`unexpected group ${key(row)}`);
      continue;
    }
    for (const [column, value] of Object.entries(row)) {
      if (!sameValue(value, other[column])) problems.push(`${key(row)} ${column}: ${JSON.stringify(value)}, generic ${JSON.stringify(other[column])}`);
    }
  }
  return problems;
}

await describeEachEngine('rewritten plans return the rows of the generic plans on %s', (engine) => {
  let database: TestDatabase;
  const catalog = withContributorCounts(wealthCatalog(), 'customer').catalog;
  const rewritten: SemanticLayer = createSemanticLayer(catalog, { maxRows: 100_000 });
  const generic: SemanticLayer = createSemanticLayer(catalog, { maxRows: 100_000, rewrites: false });
  const rewrittenCases = new Set<string>();

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 600, seed: 17 });
  });
  afterAll(() => database.dispose());

  it.each(CASES.map((c) => [c.title, c] as const))('%s', async (_title, { query }) => {
    let expected: Row[];
    try {
      expected = (await generic.query(database.db, query)).rows as Row[];
    } catch (error) {
      // A query the catalog refuses is refused the same way either way.
      await expect(rewritten.query(database.db, query)).rejects.toMatchObject({ code: (error as { code?: string }).code });
      return;
    }
    if (rewritten.plan(query).compiled.sql !== generic.plan(query).compiled.sql) rewrittenCases.add(query.metrics.join('+'));
    const actual = (await rewritten.query(database.db, query)).rows as Row[];
    const dimensions = Object.keys(actual[0] ?? expected[0] ?? {}).filter((c) => !query.metrics.includes(c));
    expect(differences(actual, expected, dimensions)).toEqual([]);
  });

  it('exercised a rewritten plan for every metric set', () => {
    expect([...rewrittenCases].sort()).toEqual(METRIC_SETS.map((m) => m.join('+')).sort());
  });
});
