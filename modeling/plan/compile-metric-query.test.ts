import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { formatSql } from '../../test/support/format-sql.ts';
import { wealthCatalog } from '../../domains/wealth/catalog.ts';
import { createSemanticLayer } from '../semantic-layer.ts';
import type { MetricQuery } from '../query/metric-query.ts';

const layer = createSemanticLayer(wealthCatalog(), { maxRows: 1000 });
const month = { dimension: 'metric_time', grain: 'MONTH' } as const;

/** Representative plans: one per metric type, a multi-fact query and a filtered one. */
const PLANS: Record<string, MetricQuery> = {
  'simple-by-month-and-joined-dimension': {
    metrics: ['purchase_amount'],
    groupBy: [month, { dimension: 'customer.risk_level' }],
    timeRange: { from: '2026-01-01', to: '2026-07-01' },
  },
  'ratio-across-two-facts': { metrics: ['purchase_conversion_rate'], groupBy: [{ dimension: 'customer.channel' }] },
  'semi-additive-aum-by-quarter': { metrics: ['aum'], groupBy: [{ dimension: 'metric_time', grain: 'QUARTER' }, { dimension: 'product.product_type' }] },
  'derived-with-offset': { metrics: ['purchase_amount_growth_mom'], groupBy: [month] },
  'cumulative-window': {
    metrics: ['purchase_amount_30d'],
    groupBy: [{ dimension: 'metric_time', grain: 'WEEK' }],
    timeRange: { from: '2026-03-01', to: '2026-04-01' },
  },
  'conversion-first-ever': { metrics: ['first_purchase_success_rate'], groupBy: [month] },
  'conversion-first-in-period-by-event-column': { metrics: ['revisit_rate_7d'], groupBy: [month, { dimension: 'app_event.channel' }] },
  'filtered-and-ordered': {
    metrics: ['placement_ctr', 'active_customers'],
    groupBy: [{ dimension: 'customer.age_band' }],
    where: {
      kind: 'and',
      filters: [
        { kind: 'compare', dimension: 'customer.channel', op: 'IN', values: ['app', 'alipay_miniprogram'] },
        { kind: 'not', filter: { kind: 'compare', dimension: 'customer.age_band', op: 'EQ', values: ['55+'] } },
      ],
    },
    orderBy: [{ field: 'placement_ctr', direction: 'DESC' }],
    limit: 10,
  },
};

/**
 * Golden files are one clause per line (test/support/format-sql.ts) so their diffs can be
 * reviewed. A missing golden fails; `UPDATE_GOLDENS=1` (re)writes them, to be reviewed and committed.
 */
describe('golden SQL', () => {
  it.each(Object.entries(PLANS))('%s compiles to its golden SQL', (name, query) => {
    const { compiled } = layer.plan(query);
    const file = new URL(`./golden/${name}.sql`, import.meta.url);
    const actual = `${formatSql(compiled.sql)}\n-- parameters: ${JSON.stringify(compiled.parameters)}\n`;
    if (process.env.UPDATE_GOLDENS === '1') writeFileSync(file, actual);
    expect(existsSync(file), `golden file ${file.pathname} is missing: run with UPDATE_GOLDENS=1, review and commit it`).toBe(true);
    expect(actual).toBe(readFileSync(file, 'utf8'));
  });

  it('lays golden SQL out one clause per line without changing it', () => {
    const { compiled } = layer.plan(PLANS['filtered-and-ordered'] as MetricQuery);
    const formatted = formatSql(compiled.sql);
    expect(formatted.split('\n').length).toBeGreaterThan(10);
    expect(formatted.replace(/\s+/g, '')).toBe(compiled.sql.replace(/\s+/g, ''));
  });

  it('serves a repeated query from the plan cache, whatever its property order', () => {
    const first = layer.plan({ metrics: ['aum'], groupBy: [month], timeRange: { from: '2026-01-01', to: '2026-02-01' } });
    const again = layer.plan({
      timeRange: { to: '2026-02-01', from: '2026-01-01' },
      groupBy: [{ grain: 'MONTH', dimension: 'metric_time' }],
      metrics: ['aum'],
    });
    expect(again).toBe(first);
    expect(layer.plan({ metrics: ['aum'], groupBy: [month], timeRange: { from: '2026-01-01', to: '2026-03-01' } })).not.toBe(first);
  });

  it('widens a time range to whole periods of the grouped grain', () => {
    const { compiled } = layer.plan({ metrics: ['purchase_amount'], groupBy: [month], timeRange: { from: '2026-01-15', to: '2026-03-02' } });
    // Read month by month (a statement split by periods): the months from January to March whole.
    expect(compiled.parameters[0]).toBe('2026-01-01');
    expect(compiled.parameters).toContain('2026-04-01');
    expect(compiled.parameters).not.toContain('2026-01-15');
    expect(compiled.parameters).not.toContain('2026-03-02');
  });
});

describe('distinct counts by period', () => {
  const active = (extra: Partial<MetricQuery> = {}) =>
    layer.plan({ metrics: ['active_customers'], groupBy: [month], timeRange: { from: '2026-01-01', to: '2026-04-01' }, ...extra }).compiled.sql;

  it("reads each period's distinct values with DISTINCT ON when the rows are unfiltered and the period is the only group", () => {
    const sql = active();
    // One part per month, each the distinct customers of its rows (an index on the customer gives them in order).
    expect(sql.match(/SELECT DISTINCT ON \("n0_0"\."c1"\) CAST\(\$\d+ AS date\) AS "g0", "n0_0"\."c1" AS v FROM/g)).toHaveLength(3);
    expect(sql).not.toContain('GROUP BY 1, 2');
    expect(layer.plan({ metrics: ['active_customers'], timeRange: { from: '2026-01-01', to: '2026-04-01' } }).compiled.sql).toContain('DISTINCT ON');
  });

  it('hashes the (group, value) pairs when rows are filtered or grouped by more than the period', () => {
    const channel = { kind: 'compare', dimension: 'customer.channel', op: 'IN', values: ['app'] } as const;
    for (const sql of [active({ where: channel }), active({ groupBy: [month, { dimension: 'customer.channel' }] }), active({ metrics: ['purchasers'] })]) {
      expect(sql).not.toContain('DISTINCT ON');
    }
  });
});

describe('trusted joins', () => {
  const byCustomer = (trustedJoins?: string[], extra: MetricQuery['groupBy'] = []) =>
    layer.plan({
      metrics: ['purchase_amount'],
      groupBy: [{ dimension: 'customer.customer_id' }, ...(extra ?? [])],
      timeRange: { from: '2026-01-01', to: '2026-02-01' },
      ...(trustedJoins ? { trustedJoins } : {}),
    }).compiled.sql;

  it("reads a trusted model's key from the joining column and leaves the join out", () => {
    expect(byCustomer()).toContain('"wealth"."customers"');
    const trusted = byCustomer(['customer']);
    expect(trusted).not.toContain('"wealth"."customers"');
    expect(trusted).not.toContain('JOIN');
    // Another model named trusted changes nothing; another dimension of the trusted model still needs the join.
    expect(byCustomer(['product'])).toBe(byCustomer());
    expect(byCustomer(['customer'], [{ dimension: 'customer.risk_level' }])).toContain('"wealth"."customers"');
  });

  it('caches trusted and untrusted plans apart', () => {
    expect(layer.plan({ metrics: ['purchase_amount'], groupBy: [{ dimension: 'customer.customer_id' }], trustedJoins: ['customer'] })).not.toBe(
      layer.plan({ metrics: ['purchase_amount'], groupBy: [{ dimension: 'customer.customer_id' }] }),
    );
  });
});
