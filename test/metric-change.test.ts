import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { INCIDENT } from '../domains/wealth/demo-data/incident.ts';
import { wealthCatalog } from '../domains/wealth/catalog.ts';
import { createSemanticLayer, type QueryAccess, type SemanticLayer } from '../modeling/semantic-layer.ts';
import { adtributor, jsTerm, kitagawa, type ChangeCell } from '../modeling/explain/decompose.ts';
import { explainMetricChange, type ExplainInput, type MetricChangeExplanation } from '../services/metric-change.ts';
import { StrataError } from '../modeling/errors.ts';

/**
 * explainMetricChange: contributions add up to the change, Kitagawa's mix and rate effects
 * add up to a ratio's change exactly, AUM is explained by closing balances, small cells are
 * hidden with their complements, and the incident planted in the demo data (mini-program
 * purchase conversion of C2 customers, October 2026) is the first explanation found.
 */

const SEPTEMBER = { from: '2026-09-01', to: '2026-10-01' };
const OCTOBER = { from: '2026-10-01', to: '2026-11-01' };
const OPEN: QueryAccess = { clearance: 'internal' };

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const sumOf = (xs: readonly (number | null)[]) => xs.reduce<number>((s, x) => s + (x ?? 0), 0);

describe('the arithmetic of a change', () => {
  it('splits a ratio change into mix and rate effects with no residual', () => {
    const next = random(3);
    for (let trial = 0; trial < 200; trial++) {
      const cells: ChangeCell[] = Array.from({ length: 1 + Math.floor(next() * 8) }, (_, i) => {
        const baseDen = next() < 0.1 ? 0 : Math.floor(next() * 1000);
        const currentDen = next() < 0.1 ? 0 : Math.floor(next() * 1000);
        return { value: i, base: null, current: null, baseDen, currentDen, baseNum: Math.floor(next() * baseDen), currentNum: Math.floor(next() * currentDen) };
      });
      const { base, current, effects } = kitagawa(cells);
      if (base === null || current === null) continue;
      const total = sumOf(effects.map((e) => e.mixEffect + e.rateEffect));
      expect(total).toBeCloseTo(current - base, 12);
    }
  });

  it('scores surprise as a Jensen-Shannon term: zero when the shares agree, symmetric, bounded', () => {
    expect(jsTerm(0.3, 0.3)).toBe(0);
    expect(jsTerm(0.2, 0.5)).toBeCloseTo(jsTerm(0.5, 0.2), 15);
    expect(jsTerm(1, 0)).toBeCloseTo(0.5, 15);
  });

  it('finds the value that carries the change, and prunes values under 3 % of it', () => {
    const explanations = adtributor([
      {
        dimension: 'channel',
        values: [
          { value: 'app', power: 0.05, surprise: 0.001, hidden: false },
          { value: 'web', power: 0.95, surprise: 0.04, hidden: false },
        ],
      },
      {
        dimension: 'risk',
        values: [
          { value: 'C1', power: 0.5, surprise: 0.01, hidden: false },
          { value: 'C2', power: 0.5, surprise: 0.01, hidden: false },
          { value: 'C3', power: 0.02, surprise: 0.5, hidden: false },
        ],
      },
    ]);
    expect(explanations[0]?.members).toEqual([{ dimension: 'channel', value: 'web' }]);
    expect(explanations[1]?.members.map((m) => m.value)).toEqual(['C1', 'C2']);
    // A hidden (small) value never explains anything.
    expect(adtributor([{ dimension: 'channel', values: [{ value: 'web', power: 1, surprise: 1, hidden: true }] }])).toEqual([]);
  });
});

await describeEachEngine('explainMetricChange on %s', (engine) => {
  let database: TestDatabase;
  let layer: SemanticLayer;
  const explain = (input: Partial<ExplainInput> & { metric: string; dimensions: string[] }, access: QueryAccess = OPEN) =>
    explainMetricChange(database.db, layer, access, { base: SEPTEMBER, current: OCTOBER, ...input });
  const metricValue = async (metric: string, range: { from: string; to: string }) =>
    Number((await layer.query(database.db, { metrics: [metric], timeRange: range })).rows[0]?.[metric]);

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    // The demo's default size: the planted incident must stand out of the noise as `npm start` shows it.
    await seedDemoData(database, { customers: 20_000, seed: 19 });
    layer = createSemanticLayer(wealthCatalog(), { maxRows: 10_000, subject: 'customer' });
  }, 600_000);
  afterAll(() => database?.dispose());

  const byDimension = (e: MetricChangeExplanation, dimension: string) => e.contributions.filter((c) => c.dimension === dimension);

  it('splits an additive change into contributions that add up to it, per dimension', async () => {
    const dimensions = ['customer.channel', 'customer.risk_level', 'product.product_type'];
    const e = await explain({ metric: 'purchase_amount', dimensions });
    expect(e.method).toBe('ADDITIVE');
    const { rows } = await sql<{ sep: string; oct: string }>`
      SELECT SUM(amount) FILTER (WHERE occurred_at < TIMESTAMP '2026-10-01' AT TIME ZONE 'Asia/Shanghai')::text AS sep,
             SUM(amount) FILTER (WHERE occurred_at >= TIMESTAMP '2026-10-01' AT TIME ZONE 'Asia/Shanghai')::text AS oct
      FROM wealth.transactions WHERE txn_type = 'purchase' AND status = 'succeeded'
        AND occurred_at >= TIMESTAMP '2026-09-01' AT TIME ZONE 'Asia/Shanghai' AND occurred_at < TIMESTAMP '2026-11-01' AT TIME ZONE 'Asia/Shanghai'`.execute(
      database.db,
    );
    expect(e.base).toBeCloseTo(Number(rows[0]?.sep), 2);
    expect(e.current).toBeCloseTo(Number(rows[0]?.oct), 2);
    for (const dimension of dimensions) {
      const parts = byDimension(e, dimension);
      expect(sumOf(parts.map((c) => c.change))).toBeCloseTo(e.change ?? Number.NaN, 4);
      expect(sumOf(parts.map((c) => c.share))).toBeCloseTo(1, 9);
      expect(e.dimensions.find((d) => d.dimension === dimension)?.additive).toBe(true);
    }
    expect(e.dimensions.map((d) => d.surprise)).toEqual([...e.dimensions.map((d) => d.surprise)].sort((a, b) => b - a));
  });

  it('splits a ratio change into mix and rate effects that add up to it exactly, per dimension', async () => {
    const dimensions = ['customer.channel', 'customer.risk_level', 'customer.age_band'];
    const e = await explain({ metric: 'purchase_conversion_rate', dimensions });
    expect(e.method).toBe('RATIO');
    expect(e.base).toBeCloseTo(await metricValue('purchase_conversion_rate', SEPTEMBER), 12);
    expect(e.current).toBeCloseTo(await metricValue('purchase_conversion_rate', OCTOBER), 12);
    for (const dimension of dimensions) {
      const effects = e.mixRate.filter((m) => m.dimension === dimension);
      expect(effects.length).toBeGreaterThan(1);
      expect(sumOf(effects.map((m) => (m.mixEffect ?? 0) + (m.rateEffect ?? 0)))).toBeCloseTo(e.change ?? Number.NaN, 12);
      expect(sumOf(byDimension(e, dimension).map((c) => c.change))).toBeCloseTo(e.change ?? Number.NaN, 12);
    }
  });

  it('explains AUM by closing balances, which add up across customer segments', async () => {
    const e = await explain({ metric: 'aum', dimensions: ['customer.risk_level', 'product.product_type'] });
    expect(e.method).toBe('SEMI_ADDITIVE');
    expect(e.current).toBeCloseTo(await metricValue('aum', OCTOBER), 2);
    for (const dimension of ['customer.risk_level', 'product.product_type'])
      expect(sumOf(byDimension(e, dimension).map((c) => c.change))).toBeCloseTo(e.change ?? Number.NaN, 2);
  });

  it('ranks the planted incident first: mini-program conversion fell among C2 customers', async () => {
    const e = await explain({
      metric: 'purchase_conversion_rate',
      where: { kind: 'compare', dimension: 'customer.channel', op: 'IN', values: [...INCIDENT.channels] },
      dimensions: ['customer.age_band', 'customer.city_tier', 'customer.gender', 'customer.account_class', 'customer.risk_level'],
    });
    expect(e.change).toBeLessThan(0);
    expect(e.explanations[0]?.members).toEqual([{ dimension: 'customer.risk_level', value: `C${INCIDENT.riskLevel}` }]);
    expect(e.dimensions[0]?.dimension).toBe('customer.risk_level');
    const c2 = e.mixRate.find((m) => m.dimension === 'customer.risk_level' && m.value === `C${INCIDENT.riskLevel}`);
    expect(Math.abs(c2?.rateEffect ?? 0)).toBeGreaterThan(Math.abs(c2?.mixEffect ?? 0));
  });

  it('compares a period with the mean of the periods before it (a forecast)', async () => {
    const e = await explain({ metric: 'purchase_amount', base: undefined, forecast: { periods: 3 }, dimensions: ['customer.channel'] });
    const days = 31;
    const ranges = [1, 2, 3].map((i) => ({
      from: new Date(Date.parse('2026-10-01') - i * days * 86_400_000).toISOString().slice(0, 10),
      to: new Date(Date.parse('2026-10-01') - (i - 1) * days * 86_400_000).toISOString().slice(0, 10),
    }));
    const values = await Promise.all(ranges.map((r) => metricValue('purchase_amount', r)));
    expect(e.base).toBeCloseTo(sumOf(values) / 3, 4);
    expect(e.baseRange).toEqual({ from: ranges[2]?.from, to: '2026-10-01' });
  });

  it('hides small cells with a complement, so that the total minus the shown values recovers none', async () => {
    const dimensions = ['customer.city_tier', 'customer.risk_level', 'product.product_type', 'customer.age_band'];
    const plain = await explain({ metric: 'purchasers', dimensions });
    // A threshold just above the smallest value shown, so that something is small.
    const smallest = Math.min(...plain.contributions.flatMap((c) => [c.base ?? 0, c.current ?? 0]).filter((x) => x > 0));
    const k = smallest + 1;
    const e = await explain({ metric: 'purchasers', dimensions }, { clearance: 'internal', minSubjects: k });
    let hiddenSomewhere = false;
    for (const d of e.dimensions) {
      const hidden = byDimension(e, d.dimension).filter((c) => c.suppressed);
      expect(hidden.length === 0 || hidden.length >= 2, d.dimension).toBe(true);
      expect(d.suppressedValues).toBe(hidden.length);
      if (hidden.length > 0) hiddenSomewhere = true;
      for (const c of hidden) expect([c.base, c.current, c.change, c.share]).toEqual([null, null, null, null]);
      // Each small value of the unsuppressed answer is hidden.
      for (const c of byDimension(plain, d.dimension))
        if ((c.base !== null && c.base > 0 && c.base < k) || (c.current !== null && c.current > 0 && c.current < k))
          expect(hidden.some((h) => h.value === c.value)).toBe(true);
    }
    expect(hiddenSomewhere).toBe(true);
    const hiddenValues = new Set(e.contributions.filter((c) => c.suppressed).map((c) => `${c.dimension}=${String(c.value)}`));
    for (const x of e.explanations) for (const m of x.members) expect(hiddenValues.has(`${m.dimension}=${String(m.value)}`)).toBe(false);
  });

  it('reads counts of customer segments from one query per period, with the numbers of one query per dimension', async () => {
    /** The explanation both ways, and how many grouped queries each took. */
    const bothWays = async (input: Partial<ExplainInput> & { metric: string; dimensions: string[] }, access: QueryAccess) => {
      let queries = 0;
      const counting: SemanticLayer = {
        ...layer,
        queryCounted: (db, query, a, how) => {
          queries++;
          return layer.queryCounted(db, query, a, how);
        },
      };
      const full = { base: SEPTEMBER, current: OCTOBER, ...input } as ExplainInput;
      const cells = await explainMetricChange(database.db, counting, access, full);
      const cellQueries = queries;
      queries = 0;
      const perDimension = await explainMetricChange(database.db, counting, access, full, { byCells: false });
      return { cells, perDimension, cellQueries, perDimensionQueries: queries };
    };
    const dimensions = ['customer.channel', 'customer.risk_level', 'customer.age_band', 'customer.city_tier', 'customer.gender'];
    const analyst: QueryAccess = { clearance: 'internal', minSubjects: 40 };
    for (const access of [OPEN, analyst]) {
      const ratio = await bothWays({ metric: 'purchase_conversion_rate', dimensions }, access);
      expect(ratio.cells).toEqual(ratio.perDimension);
      expect([ratio.cellQueries, ratio.perDimensionQueries]).toEqual([2, 12]);
      if (access === analyst) expect(ratio.cells.contributions.some((c) => c.suppressed)).toBe(true);
    }
    // With hidden subject counts (a sum's purchasers), read as floors where they decide: the same tables either way.
    for (const dims of [dimensions, ['customer.channel', 'customer.risk_level']]) {
      const amount = await bothWays({ metric: 'purchase_amount', dimensions: dims }, analyst);
      expect(amount.cells).toEqual(amount.perDimension);
    }
    const forecast = await bothWays(
      {
        metric: 'active_customers',
        base: undefined,
        forecast: { periods: 2 },
        dimensions: ['customer.risk_level', 'customer.gender'],
        where: { kind: 'compare', dimension: 'customer.channel', op: 'IN', values: [...INCIDENT.channels] },
      },
      analyst,
    );
    expect(forecast.cells).toEqual(forecast.perDimension);
    expect([forecast.cellQueries, forecast.perDimensionQueries]).toEqual([3, 9]);
    // A product's type is not the customer's: a customer's purchases fall in several, so its
    // tables take their own query per period, beside the cells of the customer's channel (and the totals).
    for (const access of [OPEN, analyst]) {
      const products = await bothWays({ metric: 'purchasers', dimensions: ['customer.channel', 'product.product_type'] }, access);
      expect(products.cells).toEqual(products.perDimension);
      expect([products.cellQueries, products.perDimensionQueries]).toEqual([4, 6]);
    }
  }, 600_000);

  it('refuses bad input with coded errors', async () => {
    const codeOf = async (input: Parameters<typeof explain>[0]) => {
      try {
        await explain(input);
        return 'none';
      } catch (error) {
        return error instanceof StrataError ? error.code : String(error);
      }
    };
    expect(await codeOf({ metric: 'nope', dimensions: ['customer.channel'] })).toBe('UNKNOWN_MEMBER');
    expect(await codeOf({ metric: 'purchase_amount', dimensions: [] })).toBe('BAD_USER_INPUT');
    expect(await codeOf({ metric: 'purchase_amount', dimensions: ['customer.nope'] })).toBe('UNKNOWN_MEMBER');
    expect(await codeOf({ metric: 'purchase_amount', dimensions: ['customer.channel'], base: { from: '2026-10-01', to: '2026-09-01' } })).toBe(
      'BAD_USER_INPUT',
    );
  });
});
