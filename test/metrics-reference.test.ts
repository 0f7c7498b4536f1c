/**
 * Independent reference check of the metric compiler: every core metric of DOMAIN.md is
 * computed here with hand-written SQL straight from the metric's wording, and compared row
 * by row with what the GraphQL `metrics` query returns. Nothing in this file looks at how
 * the platform compiles a query; only metric and dimension names come from the catalog.
 *
 * A few hand-made customers and events sit exactly on the boundaries the definitions talk
 * about (Shanghai month cut, 24 h and 168 h windows, first-ever submit before the range,
 * holdings that are not on the last day of a period); both sides see them.
 *
 * The second half checks the API contract of API.md's "Metrics" section end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createApp, type App } from '../api/app.ts';
import { createApiKey } from '../store/api-keys.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { WEALTH_CORE_METRICS } from '../domains/wealth/metrics.ts';

// ---------------------------------------------------------------------------------------
// The query and result shapes of API.md

type Grain = 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';
interface GroupBy {
  dimension: string;
  grain?: Grain;
}
interface FilterNode {
  and?: FilterNode[];
  or?: FilterNode[];
  not?: FilterNode;
  dimension?: string;
  op?: string;
  values?: string[];
}
interface MetricQueryInput {
  metrics: string[];
  groupBy?: GroupBy[];
  where?: FilterNode;
  timeRange?: { from?: string; to?: string };
  orderBy?: { field: string; direction?: 'ASC' | 'DESC' }[];
  limit?: number;
  offset?: number;
}
type Value = string | number | boolean | null;
type Row = Record<string, Value>;
interface MetricResult {
  columns: { name: string; kind: string; type: string }[];
  rows: Row[];
  sql: string | null;
}
interface GraphqlError {
  message: string;
  extensions?: Record<string, unknown>;
}
interface GraphqlResponse<T> {
  data?: T | null;
  errors?: GraphqlError[];
}

const METRICS_QUERY = `query Metrics($q: MetricQueryInput!) {
  metrics(query: $q) { columns { name kind type } rows sql }
}`;

/** `customer.risk_level` → `customer__risk_level`; `metric_time` at MONTH → `metric_time__month`. */
function columnName(groupBy: GroupBy): string {
  return groupBy.dimension.replaceAll('.', '__') + (groupBy.grain ? `__${groupBy.grain.toLowerCase()}` : '');
}

// ---------------------------------------------------------------------------------------
// Hand-written reference SQL, from DOMAIN.md's wording

const ZONE = 'Asia/Shanghai';
const PUBLIC_FUNDS = `('bond_fund', 'equity_fund', 'mixed_fund')`;
const SUCCEEDED_PURCHASE = `f.txn_type = 'purchase' AND f.status = 'succeeded'`;

interface Range {
  from: string;
  to: string;
}

/**
 * What one reference query groups by. `slices` are SQL expressions over the aliases `c`
 * (wealth.customers, LEFT JOINed on customer_id), `p` (wealth.products, LEFT JOINed on
 * product_id where the fact has one) and `f` (the fact table itself).
 */
interface Shape {
  grain: 'day' | 'week' | 'month';
  range: Range;
  slices: { sql: string; as: string }[];
  /** An extra condition on the same aliases (the query's `where`). */
  where?: string;
}

const local = (column: string) => `(${column} AT TIME ZONE '${ZONE}')`;
const timeAlias = (shape: Shape) => `metric_time__${shape.grain}`;
/** Start of the Shanghai period of a timestamptz, as YYYY-MM-DD. */
const periodOf = (column: string, shape: Shape) => `to_char(date_trunc('${shape.grain}', ${local(column)}), 'YYYY-MM-DD')`;
/** Half-open [from, to) in Shanghai time. */
const inRange = (column: string, range: Range) =>
  `${local(column)} >= TIMESTAMP '${range.from} 00:00:00' AND ${local(column)} < TIMESTAMP '${range.to} 00:00:00'`;
const sliceSelect = (shape: Shape) => shape.slices.map((s) => `, ${s.sql} AS ${s.as}`).join('');
const groupColumns = (shape: Shape) => Array.from({ length: shape.slices.length + 1 }, (_, i) => i + 1).join(', ');
const sliceJoinKeys = (shape: Shape, left: string, right: string) =>
  [timeAlias(shape), ...shape.slices.map((s) => s.as)]
    // null keys are real groups: match them with a sentinel (IS NOT DISTINCT FROM cannot drive a FULL JOIN on PostgreSQL)
    .map((name) => `COALESCE(${left}.${name}::text, '~null~') = COALESCE(${right}.${name}::text, '~null~')`)
    .join(' AND ');

/** One aggregate over one fact table, by period of `timeColumn` and the shape's slices. */
function aggregateSql(
  shape: Shape,
  fact: { table: string; timeColumn: string; aggregate: string; as: string; condition?: string; hasProduct?: boolean },
): string {
  const conditions = [inRange(`f.${fact.timeColumn}`, shape.range), fact.condition, shape.where].filter(Boolean).map((c) => `(${c})`);
  return `SELECT ${periodOf(`f.${fact.timeColumn}`, shape)} AS ${timeAlias(shape)}${sliceSelect(shape)}, (${fact.aggregate})::float8 AS ${fact.as}
    FROM ${fact.table} f
    LEFT JOIN wealth.customers c ON c.customer_id = f.customer_id
    ${fact.hasProduct ? 'LEFT JOIN wealth.products p ON p.product_id = f.product_id' : ''}
    WHERE ${conditions.join(' AND ')}
    GROUP BY ${groupColumns(shape)}`;
}

/** numerator / denominator per period and slice, both aggregated first; null when the denominator is 0 or absent. */
function ratioSql(shape: Shape, as: string, numerator: string, numeratorAs: string, denominator: string, denominatorAs: string): string {
  const keys = [timeAlias(shape), ...shape.slices.map((s) => s.as)];
  return `SELECT ${keys.map((k) => `COALESCE(n.${k}, d.${k}) AS ${k}`).join(', ')},
      (COALESCE(n.${numeratorAs}, 0) / NULLIF(d.${denominatorAs}, 0))::float8 AS ${as}
    FROM (${numerator}) n FULL JOIN (${denominator}) d ON ${sliceJoinKeys(shape, 'n', 'd')}`;
}

/** DOMAIN.md's "Core metrics" table, in its order. */
type CoreMetric = (typeof WEALTH_CORE_METRICS)[number];

const reference: Record<CoreMetric, (shape: Shape) => string> = {
  new_customers: (shape: Shape) =>
    aggregateSql(shape, { table: 'wealth.customers', timeColumn: 'registered_at', aggregate: 'count(DISTINCT f.customer_id)', as: 'new_customers' }),

  /** Distinct non-null customer_id of any app_events row; anonymous rows land in the null slice with 0. */
  active_customers: (shape: Shape) =>
    aggregateSql(shape, {
      table: 'wealth.app_events',
      timeColumn: 'occurred_at',
      aggregate: 'count(DISTINCT f.customer_id)',
      as: 'active_customers',
      hasProduct: true,
    }),

  purchase_amount: (shape: Shape) =>
    aggregateSql(shape, {
      table: 'wealth.transactions',
      timeColumn: 'occurred_at',
      aggregate: 'sum(f.amount)',
      as: 'purchase_amount',
      condition: SUCCEEDED_PURCHASE,
      hasProduct: true,
    }),

  purchasers: (shape: Shape) =>
    aggregateSql(shape, {
      table: 'wealth.transactions',
      timeColumn: 'occurred_at',
      aggregate: 'count(DISTINCT f.customer_id)',
      as: 'purchasers',
      condition: SUCCEEDED_PURCHASE,
      hasProduct: true,
    }),

  purchase_conversion_rate: (shape: Shape) =>
    ratioSql(shape, 'purchase_conversion_rate', reference.purchasers(shape), 'purchasers', reference.active_customers(shape), 'active_customers'),

  public_fund_purchase_amount: (shape: Shape) =>
    aggregateSql(shape, {
      table: 'wealth.transactions',
      timeColumn: 'occurred_at',
      aggregate: 'sum(f.amount)',
      as: 'public_fund_purchase_amount',
      condition: `${SUCCEEDED_PURCHASE} AND p.product_type IN ${PUBLIC_FUNDS}`,
      hasProduct: true,
    }),

  /**
   * Per period: the last as_of day with any holdings row in that period (inside the range,
   * across all rows, not per slice); then market_value of that day's rows, summed by slice.
   */
  aum: (shape: Shape) => `
    WITH h AS (
      SELECT f.*, date_trunc('${shape.grain}', f.as_of::timestamp) AS period
      FROM wealth.holdings_daily f
      WHERE f.as_of >= DATE '${shape.range.from}' AND f.as_of < DATE '${shape.range.to}'
    ),
    last_day AS (SELECT period, max(as_of) AS as_of FROM h GROUP BY period)
    SELECT to_char(f.period, 'YYYY-MM-DD') AS ${timeAlias(shape)}${sliceSelect(shape)}, sum(f.market_value)::float8 AS aum
    FROM h f
    JOIN last_day l ON l.period = f.period AND l.as_of = f.as_of
    LEFT JOIN wealth.customers c ON c.customer_id = f.customer_id
    LEFT JOIN wealth.products p ON p.product_id = f.product_id
    ${shape.where ? `WHERE ${shape.where}` : ''}
    GROUP BY ${groupColumns(shape)}`,

  placement_impressions: (shape: Shape) =>
    aggregateSql(shape, {
      table: 'wealth.app_events',
      timeColumn: 'occurred_at',
      aggregate: 'count(*)',
      as: 'placement_impressions',
      condition: `f.event_name = 'placement_impression'`,
      hasProduct: true,
    }),

  placement_clicks: (shape: Shape) =>
    aggregateSql(shape, {
      table: 'wealth.app_events',
      timeColumn: 'occurred_at',
      aggregate: 'count(*)',
      as: 'placement_clicks',
      condition: `f.event_name = 'placement_click'`,
      hasProduct: true,
    }),

  placement_ctr: (shape: Shape) =>
    ratioSql(shape, 'placement_ctr', reference.placement_clicks(shape), 'placement_clicks', reference.placement_impressions(shape), 'placement_impressions'),

  /**
   * Base: customers whose first-ever purchase_submit (over all time) falls in the period
   * (and the range). Converted: a purchase_success of the same customer strictly after
   * and at most 24 hours after that first submit (the success may fall after the range).
   */
  first_purchase_success_rate: (shape: Shape) => `
    WITH firsts AS (
      SELECT customer_id, min(occurred_at) AS first_at
      FROM wealth.app_events
      WHERE event_name = 'purchase_submit' AND customer_id IS NOT NULL
      GROUP BY customer_id
    ),
    base AS (
      SELECT b.customer_id, b.first_at,
        EXISTS (
          SELECT 1 FROM wealth.app_events s
          WHERE s.customer_id = b.customer_id AND s.event_name = 'purchase_success'
            AND s.occurred_at > b.first_at AND s.occurred_at <= b.first_at + INTERVAL '24 hours'
        ) AS converted
      FROM firsts b
      WHERE ${inRange('b.first_at', shape.range)}
    )
    SELECT ${periodOf('f.first_at', shape)} AS ${timeAlias(shape)}${sliceSelect(shape)},
      (count(*) FILTER (WHERE f.converted))::float8 / count(*)::float8 AS first_purchase_success_rate
    FROM base f
    LEFT JOIN wealth.customers c ON c.customer_id = f.customer_id
    ${shape.where ? `WHERE ${shape.where}` : ''}
    GROUP BY ${groupColumns(shape)}`,

  /**
   * Base: customers with an app_open in the period (and the range); their first app_open in
   * that period is the anchor. Converted: another app_open more than 24 h and at most 168 h
   * after the anchor, wherever it falls (also after the period or the range). Each
   * (customer, period) is judged on its own: one later app_open may be the revisit of
   * several periods' anchors. Anonymous app_opens identify no customer; they only make
   * their (null) slice a group, whose rate is null (no customers: denominator 0).
   */
  revisit_rate_7d: (shape: Shape) => `
    WITH opens AS (
      SELECT customer_id, occurred_at FROM wealth.app_events WHERE event_name = 'app_open'
    ),
    base AS (
      SELECT customer_id, date_trunc('${shape.grain}', ${local('occurred_at')}) AS period, min(occurred_at) AS first_at
      FROM opens
      WHERE ${inRange('occurred_at', shape.range)}
      GROUP BY 1, 2
    ),
    converted AS (
      SELECT b.*,
        EXISTS (
          SELECT 1 FROM opens o
          WHERE o.customer_id = b.customer_id
            AND o.occurred_at > b.first_at + INTERVAL '24 hours' AND o.occurred_at <= b.first_at + INTERVAL '168 hours'
        ) AS converted
      FROM base b
    )
    SELECT to_char(f.period, 'YYYY-MM-DD') AS ${timeAlias(shape)}${sliceSelect(shape)},
      (count(*) FILTER (WHERE f.converted))::float8 / NULLIF(count(f.customer_id), 0)::float8 AS revisit_rate_7d
    FROM converted f
    LEFT JOIN wealth.customers c ON c.customer_id = f.customer_id
    ${shape.where ? `WHERE ${shape.where}` : ''}
    GROUP BY ${groupColumns(shape)}`,
};

// ---------------------------------------------------------------------------------------
// The cases: one API query and the shape of its reference SQL

const RANGE: Range = { from: '2026-02-01', to: '2026-06-01' };
const MARCH: Range = { from: '2026-03-01', to: '2026-04-01' };

/** Customer dimensions, and the SQL they stand for in the reference queries. */
const DIMENSIONS: Record<string, string> = {
  'customer.risk_level': 'c.risk_level',
  'customer.channel': 'c.channel',
  'customer.city_tier': 'c.city_tier',
  'customer.age_band': 'c.age_band',
  'product.product_type': 'p.product_type',
  'transaction.channel': 'f.channel',
};

/** A dimension for each core metric at MONTH grain, so several kinds of slice get exercised. */
const MONTHLY_SLICE: Record<CoreMetric, string> = {
  new_customers: 'customer.risk_level',
  active_customers: 'customer.risk_level',
  purchase_amount: 'customer.risk_level',
  purchasers: 'customer.channel',
  purchase_conversion_rate: 'customer.risk_level',
  public_fund_purchase_amount: 'customer.age_band',
  aum: 'customer.risk_level',
  placement_impressions: 'customer.channel',
  placement_clicks: 'customer.risk_level',
  placement_ctr: 'customer.channel',
  first_purchase_success_rate: 'customer.risk_level',
  revisit_rate_7d: 'customer.risk_level',
};

interface Case {
  title: string;
  query: MetricQueryInput;
  /** One reference SQL per metric; rows are merged on the group-by columns. */
  expected: { metric: CoreMetric; sql: string }[];
}

/**
 * The range a grouped query covers: a time range is widened to whole periods of the
 * metric_time grain (issue 9, as MetricFlow widens its time constraints), so the first and
 * last periods are complete; DAY leaves it as given.
 */
function widenedRange(range: Range, grain: Shape['grain']): Range {
  if (grain === 'day') return range;
  const start = (text: string) => {
    const d = new Date(`${text}T00:00:00Z`);
    if (grain === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    else d.setUTCDate(1);
    return d;
  };
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const from = iso(start(range.from));
  const toStart = start(range.to);
  if (iso(toStart) === range.to) return { from, to: range.to };
  if (grain === 'week') toStart.setUTCDate(toStart.getUTCDate() + 7);
  else toStart.setUTCMonth(toStart.getUTCMonth() + 1);
  return { from, to: iso(toStart) };
}

function shapeOf(grain: Shape['grain'], range: Range, dimensions: string[], where?: string): Shape {
  return {
    grain,
    range: widenedRange(range, grain),
    slices: dimensions.map((d) => {
      const expression = DIMENSIONS[d];
      if (!expression) throw new Error(`no reference SQL for ${d}`);
      return { sql: expression, as: d.replaceAll('.', '__') };
    }),
    ...(where ? { where } : {}),
  };
}

function caseOf(title: string, metrics: CoreMetric[], grain: Grain, range: Range, dimensions: string[], filter?: { api: FilterNode; sql: string }): Case {
  const shape = shapeOf(grain.toLowerCase() as Shape['grain'], range, dimensions, filter?.sql);
  return {
    title,
    query: {
      metrics,
      groupBy: [{ dimension: 'metric_time', grain }, ...dimensions.map((dimension) => ({ dimension }))],
      timeRange: range,
      ...(filter ? { where: filter.api } : {}),
    },
    expected: metrics.map((metric) => ({ metric, sql: reference[metric](shape) })),
  };
}

const CHANNEL_FILTER = {
  api: {
    and: [
      { dimension: 'customer.channel', op: 'IN', values: ['app', 'alipay_miniprogram'] },
      { not: { dimension: 'customer.age_band', op: 'EQ', values: ['55+'] } },
    ],
  },
  sql: `c.channel IN ('app', 'alipay_miniprogram') AND NOT (c.age_band = '55+')`,
};

const CASES: Case[] = [
  ...WEALTH_CORE_METRICS.map((metric) => caseOf(`${metric} by month and ${MONTHLY_SLICE[metric]}`, [metric], 'MONTH', RANGE, [MONTHLY_SLICE[metric]])),
  caseOf('purchase_amount by month and product.product_type', ['purchase_amount'], 'MONTH', RANGE, ['product.product_type']),
  caseOf('purchase_amount by ISO week and transaction.channel', ['purchase_amount'], 'WEEK', RANGE, ['transaction.channel']),
  caseOf('aum by ISO week and customer.city_tier', ['aum'], 'WEEK', RANGE, ['customer.city_tier']),
  caseOf('revisit_rate_7d by ISO week', ['revisit_rate_7d'], 'WEEK', RANGE, []),
  // By month alone: each month's first app_open and its revisit from one ordered pass over the events.
  caseOf('revisit_rate_7d by month', ['revisit_rate_7d'], 'MONTH', RANGE, []),
  caseOf('active_customers (DAU) by day and customer.channel', ['active_customers'], 'DAY', MARCH, ['customer.channel']),
  caseOf('placement_ctr by day', ['placement_ctr'], 'DAY', MARCH, []),
  caseOf(
    'purchase_amount and purchase_conversion_rate with an IN and a NOT filter',
    ['purchase_amount', 'purchase_conversion_rate'],
    'MONTH',
    RANGE,
    ['customer.risk_level'],
    CHANNEL_FILTER,
  ),
  caseOf('purchase_amount filtered to public funds equals public_fund_purchase_amount', ['purchase_amount'], 'MONTH', RANGE, ['customer.risk_level'], {
    api: { dimension: 'product.product_type', op: 'IN', values: ['bond_fund', 'equity_fund', 'mixed_fund'] },
    sql: `p.product_type IN ${PUBLIC_FUNDS}`,
  }),
  caseOf('all core metrics in one query by month and customer.risk_level', [...WEALTH_CORE_METRICS], 'MONTH', RANGE, ['customer.risk_level']),
];

// ---------------------------------------------------------------------------------------
// Comparison

const TOLERANCE = 1e-9;

function sameNumber(actual: Value | undefined, expected: Value): boolean {
  if (expected === null) return actual === null;
  if (typeof actual !== 'number' || typeof expected !== 'number') return false;
  if (actual === expected) return true;
  return Math.abs(actual - expected) <= TOLERANCE * Math.max(Math.abs(actual), Math.abs(expected));
}

const keyOf = (row: Row, dimensions: string[]) => JSON.stringify(dimensions.map((d) => row[d] ?? null));

/** Counts of customers or events: a group in which there is nothing to count shows 0. */
const COUNTS: ReadonlySet<string> = new Set(['new_customers', 'active_customers', 'purchasers', 'placement_impressions', 'placement_clicks']);

/**
 * Merges per-metric reference rows on the group-by columns. A metric without a row for a
 * group (the group exists through another metric) is 0 for a count and null otherwise.
 */
function mergeExpected(results: { metric: string; rows: Row[] }[], dimensions: string[], metrics: string[]): Map<string, Row> {
  const merged = new Map<string, Row>();
  for (const { metric, rows } of results) {
    for (const row of rows) {
      const key = keyOf(row, dimensions);
      let target = merged.get(key);
      if (!target) {
        target = Object.fromEntries([...dimensions.map((d) => [d, row[d] ?? null]), ...metrics.map((m) => [m, COUNTS.has(m) ? 0 : null])]) as Row;
        merged.set(key, target);
      }
      target[metric] = row[metric] ?? null;
    }
  }
  return merged;
}

/** Every difference between the API rows and the reference rows, as readable lines (empty when equal). */
function differences(actualRows: Row[], expected: Map<string, Row>, dimensions: string[], metrics: string[]): string[] {
  const problems: string[] = [];
  const columns = [...dimensions, ...metrics].sort();
  const actual = new Map<string, Row>();
  for (const row of actualRows) {
    const key = keyOf(row, dimensions);
    if (actual.has(key)) problems.push(`duplicate group ${key}`);
    actual.set(key, row);
    const keys = Object.keys(row).sort();
    if (JSON.stringify(keys) !== JSON.stringify(columns)) problems.push(`row ${key} has columns ${keys.join(',')}, expected ${columns.join(',')}`);
  }
  const keys = [...new Set([...actual.keys(), ...expected.keys()])].sort();
  for (const key of keys) {
    const got = actual.get(key);
    const want = expected.get(key);
    if (!got) {
      problems.push(`missing group ${key}: expected ${JSON.stringify(want)}`);
      continue;
    }
    if (!want) {
      problems.push(`unexpected group ${key}: got ${JSON.stringify(got)}`);
      continue;
    }
    for (const metric of metrics) {
      if (!sameNumber(got[metric], want[metric] ?? null)) {
        problems.push(`${key} ${metric}: expected ${JSON.stringify(want[metric])}, got ${JSON.stringify(got[metric])}`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Boundary cases added on top of the seeded data

const EDGE_CUSTOMERS: [id: string, registeredAt: string, channel: string, cityTier: number, ageBand: string, riskLevel: string][] = [
  ['edge-001', '2025-06-01T00:00:00Z', 'app', 1, '25-34', 'C3'],
  ['edge-002', '2025-06-01T00:00:00Z', 'app', 1, '25-34', 'C3'],
  ['edge-003', '2025-06-01T00:00:00Z', 'alipay_miniprogram', 2, '35-44', 'C4'],
  ['edge-004', '2025-06-01T00:00:00Z', 'web', 3, '45-54', 'C2'],
  ['edge-005', '2025-06-01T00:00:00Z', 'web', 3, '45-54', 'C2'],
  ['edge-006', '2025-06-01T00:00:00Z', 'branch', 4, '55+', 'C5'],
  // registered at Shanghai midnight of 2026-03-01 (still February in UTC)
  ['edge-007', '2026-02-28T16:00:00Z', 'app', 1, '18-24', 'C1'],
  ['edge-008', '2025-06-01T00:00:00Z', 'app', 2, '35-44', 'C2'],
];

const EDGE_EVENTS: [customerId: string | null, name: string, occurredAt: string][] = [
  // revisit: +24 h exactly does not count, +168 h exactly does
  ['edge-001', 'app_open', '2026-03-10T02:00:00Z'],
  ['edge-001', 'app_open', '2026-03-11T02:00:00Z'],
  ['edge-001', 'app_open', '2026-03-17T02:00:00Z'],
  // revisit: +24 h exactly and +168 h 1 s: not a revisit
  ['edge-002', 'app_open', '2026-03-10T02:00:00Z'],
  ['edge-002', 'app_open', '2026-03-11T02:00:00Z'],
  ['edge-002', 'app_open', '2026-03-17T02:00:01Z'],
  // Shanghai 2026-03-31 23:00, 2026-04-01 00:30 (March in UTC), 2026-04-02 05:00
  ['edge-003', 'app_open', '2026-03-31T15:00:00Z'],
  ['edge-003', 'app_open', '2026-03-31T16:30:00Z'],
  ['edge-003', 'app_open', '2026-04-01T21:00:00Z'],
  // first purchase: success exactly 24 h after the first submit counts
  ['edge-004', 'purchase_submit', '2026-04-05T04:00:00Z'],
  ['edge-004', 'purchase_success', '2026-04-06T04:00:00Z'],
  // first purchase: success at the same instant, or 24 h 1 s later, does not
  ['edge-005', 'purchase_submit', '2026-04-05T04:00:00Z'],
  ['edge-005', 'purchase_success', '2026-04-05T04:00:00Z'],
  ['edge-005', 'purchase_success', '2026-04-06T04:00:01Z'],
  // first-ever submit before the range: the March submit is not a first submit
  ['edge-006', 'purchase_submit', '2026-01-20T04:00:00Z'],
  ['edge-006', 'purchase_submit', '2026-03-05T04:00:00Z'],
  ['edge-006', 'purchase_success', '2026-03-05T05:00:00Z'],
  // Shanghai 2026-02-01 00:00: active in February
  ['edge-007', 'app_open', '2026-01-31T16:00:00Z'],
  // anonymous impressions either side of Shanghai midnight of 2026-06-01
  [null, 'placement_impression', '2026-05-31T15:59:59Z'],
  [null, 'placement_impression', '2026-05-31T16:00:00Z'],
  [null, 'placement_click', '2026-05-31T15:59:59Z'],
];

/** [txn, type, status, amount, occurredAt]; all edge-007's, on the first equity fund. */
const EDGE_TRANSACTIONS: [id: string, type: string, status: string, amount: string, occurredAt: string][] = [
  ['edge-t1', 'purchase', 'succeeded', '123456.78', '2026-01-31T16:00:00Z'], // Shanghai 2026-02-01: inside
  ['edge-t2', 'purchase', 'succeeded', '777777.77', '2026-05-31T16:00:00Z'], // Shanghai 2026-06-01: outside
  ['edge-t3', 'purchase', 'failed', '999999.00', '2026-03-03T00:00:00Z'],
  ['edge-t4', 'purchase', 'pending', '888888.00', '2026-03-03T00:00:00Z'],
  ['edge-t5', 'redemption', 'succeeded', '555555.00', '2026-03-04T00:00:00Z'],
];

async function addEdgeCases(database: TestDatabase): Promise<void> {
  const db = database.db;
  for (const [id, registeredAt, channel, cityTier, ageBand, riskLevel] of EDGE_CUSTOMERS) {
    await sql`INSERT INTO wealth.customers (customer_id, registered_at, channel, city_tier, age_band, gender, risk_level, account_class)
      VALUES (${id}, ${registeredAt}::timestamptz, ${channel}, ${cityTier}, ${ageBand}, 'female', ${riskLevel}, 'type2')`.execute(db);
  }
  let n = 0;
  for (const [customerId, name, occurredAt] of EDGE_EVENTS) {
    n += 1;
    await sql`INSERT INTO wealth.app_events (event_id, customer_id, anonymous_id, event_name, occurred_at, channel, placement_id)
      VALUES (${`edge-e${n}`}, ${customerId}, ${customerId ? null : `anon-edge-${n}`}, ${name}, ${occurredAt}::timestamptz, 'app',
        ${name.startsWith('placement') ? 'home_banner' : null})`.execute(db);
  }
  const fund = sql`(SELECT product_id FROM wealth.products WHERE product_type = 'equity_fund' ORDER BY product_id LIMIT 1)`;
  for (const [id, type, status, amount, occurredAt] of EDGE_TRANSACTIONS) {
    await sql`INSERT INTO wealth.transactions (txn_id, customer_id, product_id, txn_type, amount, status, channel, occurred_at)
      VALUES (${id}, 'edge-007', ${fund}, ${type}, ${amount}::numeric, ${status}, 'app', ${occurredAt}::timestamptz)`.execute(db);
  }
  // A large position held only mid-month: never on the last day with data of its month.
  await sql`INSERT INTO wealth.holdings_daily (customer_id, product_id, as_of, market_value)
    VALUES ('edge-008', ${fund}, DATE '2026-03-15', 1000000.00)`.execute(db);
}

// ---------------------------------------------------------------------------------------

const WEALTH_TABLES = ['customers', 'products', 'product_nav', 'transactions', 'holdings_daily', 'app_events'];

await describeEachEngine('metrics against hand-written SQL on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let prodApp: App;
  let base: string;
  let prodBase: string;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 1_500, seed: 11 });
    await addEdgeCases(database);
    app = await createApp(database, bundledDomain(), { dev: true, maxBodyBytes: 1_000_000 });
    base = `http://127.0.0.1:${await app.listen(0)}`;
    prodApp = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 1_000_000 });
    prodBase = `http://127.0.0.1:${await prodApp.listen(0)}`;
    // Exact numbers need a caller cleared for personal data: analysts' small cells are suppressed.
    token = await createApiKey(database.db, 'reference-admin', 'admin');
  });
  afterAll(async () => {
    await app?.close();
    await prodApp?.close();
    await database?.dispose();
  });

  async function graphql<T>(query: string, variables: Record<string, unknown>, at = base): Promise<GraphqlResponse<T>> {
    const response = await fetch(`${at}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphqlResponse<T>;
  }

  async function metrics(q: MetricQueryInput, at = base): Promise<MetricResult> {
    const body = await graphql<{ metrics: MetricResult }>(METRICS_QUERY, { q }, at);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    if (!body.data) throw new Error('no data');
    return body.data.metrics;
  }

  async function metricsError(q: MetricQueryInput): Promise<GraphqlError> {
    const body = await graphql<{ metrics: MetricResult }>(METRICS_QUERY, { q });
    expect(body.data?.metrics ?? null).toBeNull();
    expect(body.errors?.length ?? 0, 'an error is returned').toBeGreaterThan(0);
    const error = body.errors![0]!;
    expect(error.extensions?.stacktrace).toBeUndefined();
    expect(error.message).not.toMatch(/\bselect\b[\s\S]*\bfrom\b|\bwealth\.\w+|\.ts:\d+|\n\s+at\s/i);
    return error;
  }

  async function referenceRows(text: string): Promise<Row[]> {
    const { rows } = await sql.raw<Row>(text).execute(database.db);
    return rows;
  }

  /** The API's rows for the case's query equal the rows of its reference SQL, which finds data. */
  async function expectReferenceRows(testCase: Pick<Case, 'query' | 'expected'>): Promise<void> {
    const dimensions = (testCase.query.groupBy ?? []).map(columnName);
    const expected = mergeExpected(
      await Promise.all(testCase.expected.map(async ({ metric, sql: text }) => ({ metric, rows: await referenceRows(text) }))),
      dimensions,
      testCase.query.metrics,
    );
    const result = await metrics(testCase.query);
    expect(expected.size, 'the reference query finds data').toBeGreaterThan(0);
    expect(differences(result.rows, expected, dimensions, testCase.query.metrics)).toEqual([]);
  }

  describe('every core metric equals the reference SQL', () => {
    it.each(CASES.map((c) => [c.title, c] as const))('%s', (_title, testCase) => expectReferenceRows(testCase));
  });

  // A column of the event itself (its channel) is not fixed by the customer: the anchor's own
  // row carries it, so these take the ranked form rather than the aggregated one above.
  describe('conversions sliced by a column of the anchor event', () => {
    const anchorChannel = (eventName: string, perMonth: boolean) => `
      SELECT DISTINCT ON (customer_id${perMonth ? `, date_trunc('month', ${local('occurred_at')})` : ''}) customer_id, occurred_at AS first_at, channel
      FROM wealth.app_events WHERE event_name = '${eventName}' ${perMonth ? `AND ${inRange('occurred_at', RANGE)}` : ''}
      ORDER BY customer_id${perMonth ? `, date_trunc('month', ${local('occurred_at')})` : ''}, occurred_at, event_id`;
    const rateByChannel = (metric: string, anchors: string, convertedWhen: string) => `
      SELECT ${periodOf('a.first_at', { grain: 'month', range: RANGE, slices: [] })} AS metric_time__month, a.channel AS app_event__channel,
        (count(*) FILTER (WHERE EXISTS (SELECT 1 FROM wealth.app_events s WHERE s.customer_id = a.customer_id AND ${convertedWhen})))::float8
          / NULLIF(count(a.customer_id), 0)::float8 AS ${metric}
      FROM (${anchors}) a WHERE ${inRange('a.first_at', RANGE)} GROUP BY 1, 2`;
    const cases = {
      first_purchase_success_rate: rateByChannel(
        'first_purchase_success_rate',
        anchorChannel('purchase_submit', false),
        `s.event_name = 'purchase_success' AND s.occurred_at > a.first_at AND s.occurred_at <= a.first_at + INTERVAL '24 hours'`,
      ),
      revisit_rate_7d: rateByChannel(
        'revisit_rate_7d',
        anchorChannel('app_open', true),
        `s.event_name = 'app_open' AND s.occurred_at > a.first_at + INTERVAL '24 hours' AND s.occurred_at <= a.first_at + INTERVAL '168 hours'`,
      ),
    };
    it('first_purchase_success_rate filtered on a column the first submit joins to (its product)', () => {
      const metric = 'first_purchase_success_rate';
      const reference = `
        WITH firsts AS (
          SELECT e.customer_id, min(e.occurred_at) AS first_at FROM wealth.app_events e
          JOIN wealth.products p ON p.product_id = e.product_id
          WHERE e.event_name = 'purchase_submit' AND p.product_type = 'bond_fund'
          GROUP BY 1
        )
        SELECT ${periodOf('f.first_at', { grain: 'month', range: RANGE, slices: [] })} AS metric_time__month, c.risk_level AS customer__risk_level,
          (count(*) FILTER (WHERE EXISTS (SELECT 1 FROM wealth.app_events s WHERE s.customer_id = f.customer_id AND s.event_name = 'purchase_success'
            AND s.occurred_at > f.first_at AND s.occurred_at <= f.first_at + INTERVAL '24 hours')))::float8 / NULLIF(count(f.customer_id), 0)::float8 AS ${metric}
        FROM firsts f LEFT JOIN wealth.customers c ON c.customer_id = f.customer_id
        WHERE ${inRange('f.first_at', RANGE)} GROUP BY 1, 2`;
      return expectReferenceRows({
        query: {
          metrics: [metric],
          groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.risk_level' }],
          timeRange: RANGE,
          where: { dimension: 'product.product_type', op: 'EQ', values: ['bond_fund'] },
        },
        expected: [{ metric, sql: reference }],
      });
    });

    it.each(Object.entries(cases) as [CoreMetric, string][])('%s by month and app_event.channel', (metric, reference) =>
      expectReferenceRows({
        query: { metrics: [metric], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'app_event.channel' }], timeRange: RANGE },
        expected: [{ metric, sql: reference }],
      }),
    );
  });

  // Without metric_time in the group-by the whole range is one period: its last day counts.
  describe('aum without a time group-by', () => {
    const lastDayTotal = (where: string) => `
      WITH rows AS (
        SELECT h.as_of, h.market_value, c.risk_level FROM wealth.holdings_daily h
        LEFT JOIN wealth.customers c ON c.customer_id = h.customer_id
        WHERE h.as_of >= DATE '${RANGE.from}' AND h.as_of < DATE '${RANGE.to}' ${where ? `AND ${where}` : ''}
      )
      SELECT risk_level AS customer__risk_level, sum(market_value)::float8 AS aum
      FROM rows WHERE as_of = (SELECT max(as_of) FROM rows) GROUP BY 1`;
    const cases: [title: string, where: MetricQueryInput['where'], whereSql: string][] = [
      ['on the last day with holdings in the range', undefined, ''],
      ['on the last day with holdings of the filtered customers', { dimension: 'customer.channel', op: 'EQ', values: ['branch'] }, `c.channel = 'branch'`],
    ];
    it.each(cases)('%s', (_title, where, whereSql) =>
      expectReferenceRows({
        query: { metrics: ['aum'], groupBy: [{ dimension: 'customer.risk_level' }], timeRange: RANGE, ...(where ? { where } : {}) },
        expected: [{ metric: 'aum', sql: lastDayTotal(whereSql) }],
      }),
    );
  });

  describe('the boundary cases land where the definitions put them', () => {
    // Totals over the whole range, computed by hand from the edge rows and the reference SQL.
    it('counts a revisit at exactly 168 hours but not at exactly 24 hours', async () => {
      const { rows } = await metrics({
        metrics: ['revisit_rate_7d'],
        groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.customer_id' }],
        where: { dimension: 'customer.customer_id', op: 'IN', values: ['edge-001', 'edge-002', 'edge-003'] },
        timeRange: RANGE,
      });
      const byKey = Object.fromEntries(rows.map((r) => [`${r.metric_time__month} ${r.customer__customer_id}`, r.revisit_rate_7d]));
      expect(byKey).toEqual({
        '2026-03-01 edge-001': 1,
        '2026-03-01 edge-002': 0,
        '2026-03-01 edge-003': 1, // Mar 31 23:00 → Apr 2 05:00 is 30 h later
        '2026-04-01 edge-003': 1, // Apr 1 00:30 → Apr 2 05:00 is 28.5 h later
      });
    });

    it('takes the first-ever purchase_submit and a success at most 24 hours after it', async () => {
      const { rows } = await metrics({
        metrics: ['first_purchase_success_rate'],
        groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.customer_id' }],
        where: { dimension: 'customer.customer_id', op: 'IN', values: ['edge-004', 'edge-005', 'edge-006'] },
        timeRange: RANGE,
      });
      const byKey = Object.fromEntries(rows.map((r) => [`${r.metric_time__month} ${r.customer__customer_id}`, r.first_purchase_success_rate]));
      expect(byKey).toEqual({ '2026-04-01 edge-004': 1, '2026-04-01 edge-005': 0 });
    });

    it('cuts months at Shanghai midnight for registrations and purchases', async () => {
      const { rows } = await metrics({
        metrics: ['new_customers', 'purchase_amount', 'active_customers'],
        groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
        where: { dimension: 'customer.customer_id', op: 'EQ', values: ['edge-007'] },
        timeRange: RANGE,
      });
      const byMonth = new Map(rows.map((r) => [r.metric_time__month, r]));
      expect([...byMonth.keys()].sort()).toEqual(['2026-02-01', '2026-03-01']);
      const february = byMonth.get('2026-02-01')!;
      const march = byMonth.get('2026-03-01')!;
      // registered at Shanghai midnight of March 1st: a March customer, although still February in UTC
      expect([0, null]).toContain(february.new_customers);
      expect(march.new_customers).toBe(1);
      // bought and opened the app at Shanghai midnight of February 1st (January in UTC)
      expect(february.active_customers).toBe(1);
      expect([0, null]).toContain(march.active_customers);
      // the failed and pending purchases, the redemption and the purchase of June 1st (Shanghai) do not count
      expect(february.purchase_amount).toBeCloseTo(123456.78, 2);
      expect([0, null]).toContain(march.purchase_amount);
      const purchases = rows.reduce((sum, r) => sum + (typeof r.purchase_amount === 'number' ? r.purchase_amount : 0), 0);
      expect(purchases).toBeCloseTo(123456.78, 2);
    });
    it('widens a time range that starts or ends inside a week to whole weeks', async () => {
      const weekly = async (range: Range) =>
        (await metrics({ metrics: ['purchase_amount'], groupBy: [{ dimension: 'metric_time', grain: 'WEEK' }], timeRange: range })).rows;
      const daySum = async (range: Range) => {
        const rows = await referenceRows(`SELECT sum(f.amount)::float8 AS amount FROM wealth.transactions f
          WHERE ${SUCCEEDED_PURCHASE} AND ${inRange('f.occurred_at', range)}`);
        return rows[0]?.amount ?? null;
      };
      // Sunday 2026-02-01 alone: its week runs from Monday 2026-01-26 to Sunday 2026-02-01
      expect(await weekly({ from: '2026-02-01', to: '2026-02-02' })).toEqual([
        { metric_time__week: '2026-01-26', purchase_amount: await daySum({ from: '2026-01-26', to: '2026-02-02' }) },
      ]);
      // Monday and Tuesday of the week of 2026-02-02: the whole week is counted
      expect(await weekly({ from: '2026-02-02', to: '2026-02-04' })).toEqual([
        { metric_time__week: '2026-02-02', purchase_amount: await daySum({ from: '2026-02-02', to: '2026-02-09' }) },
      ]);
      // Without a time grain the range is taken as given, half-open
      const [total] = (await metrics({ metrics: ['purchase_amount'], timeRange: { from: '2026-02-02', to: '2026-02-04' } })).rows;
      expect(total?.purchase_amount).toBe(await daySum({ from: '2026-02-02', to: '2026-02-04' }));
    });
  });

  describe('the API contract of the metrics query', () => {
    const contractQuery: MetricQueryInput = {
      metrics: ['purchase_amount', 'purchase_conversion_rate'],
      groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.risk_level' }, { dimension: 'customer.city_tier' }],
      timeRange: RANGE,
    };

    it('describes its columns by name, kind and type, and keys every row by them', async () => {
      const result = await metrics(contractQuery);
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect([...result.columns].sort(byName)).toEqual(
        [
          { name: 'metric_time__month', kind: 'DIMENSION', type: 'date' },
          { name: 'customer__risk_level', kind: 'DIMENSION', type: 'string' },
          { name: 'customer__city_tier', kind: 'DIMENSION', type: 'number' },
          { name: 'purchase_amount', kind: 'METRIC', type: 'number' },
          { name: 'purchase_conversion_rate', kind: 'METRIC', type: 'number' },
        ].sort(byName),
      );
      expect(result.rows.length).toBeGreaterThan(0);
      const names = result.columns.map((c) => c.name).sort();
      for (const row of result.rows) {
        expect(Object.keys(row).sort()).toEqual(names);
        expect(row.metric_time__month).toMatch(/^\d{4}-\d{2}-01$/);
        // anonymous app events (in active_customers, the denominator) form the null slice
        expect(typeof row.customer__city_tier === 'number' || row.customer__city_tier === null).toBe(true);
        expect(typeof row.purchase_amount === 'number' || row.purchase_amount === null).toBe(true);
      }
    });

    it('shows the SQL in dev mode only', async () => {
      const dev = await metrics(contractQuery);
      expect(typeof dev.sql).toBe('string');
      expect(dev.sql).toMatch(/select/i);
      const prod = await metrics(contractQuery, prodBase);
      expect(prod.sql).toBeNull();
      expect(prod.rows).toEqual(dev.rows);
    });

    it('orders, limits and offsets rows', async () => {
      const byRisk: MetricQueryInput = { metrics: ['purchase_amount'], groupBy: [{ dimension: 'customer.risk_level' }], timeRange: RANGE };
      const descending = (await metrics({ ...byRisk, orderBy: [{ field: 'purchase_amount', direction: 'DESC' }] })).rows;
      expect(descending.length).toBe(5);
      const amounts = descending.map((r) => r.purchase_amount as number);
      expect(amounts).toEqual([...amounts].sort((a, b) => b - a));

      const referenceByRisk = await referenceRows(purchaseByRiskSql(RANGE));
      expect(
        differences(
          descending,
          mergeExpected([{ metric: 'purchase_amount', rows: referenceByRisk }], ['customer__risk_level'], ['purchase_amount']),
          ['customer__risk_level'],
          ['purchase_amount'],
        ),
      ).toEqual([]);

      const page = (await metrics({ ...byRisk, orderBy: [{ field: 'purchase_amount', direction: 'DESC' }], limit: 2, offset: 1 })).rows;
      expect(page).toEqual(descending.slice(1, 3));

      const byName = (await metrics({ ...byRisk, orderBy: [{ field: 'customer.risk_level', direction: 'ASC' }] })).rows;
      expect(byName.map((r) => r.customer__risk_level)).toEqual(['C1', 'C2', 'C3', 'C4', 'C5']);
      const byColumn = (await metrics({ ...byRisk, orderBy: [{ field: 'customer__risk_level', direction: 'DESC' }], limit: 2 })).rows;
      expect(byColumn.map((r) => r.customer__risk_level)).toEqual(['C5', 'C4']);

      const months = (
        await metrics({
          metrics: ['new_customers'],
          groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
          timeRange: RANGE,
          orderBy: [{ field: 'metric_time', direction: 'DESC' }],
        })
      ).rows;
      expect(months.map((r) => r.metric_time__month)).toEqual(['2026-05-01', '2026-04-01', '2026-03-01', '2026-02-01']);
    });

    describe('refuses bad queries with the documented codes, no SQL and no change', () => {
      let before: Record<string, number>;
      const counts = async () => {
        const out: Record<string, number> = {};
        for (const table of WEALTH_TABLES) {
          const { rows } = await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(`wealth.${table}`)}`.execute(database.db);
          out[table] = Number(rows[0]?.n);
        }
        return out;
      };
      beforeAll(async () => {
        before = await counts();
      });

      it('an unknown metric is UNKNOWN_MEMBER and suggests the closest name', async () => {
        const error = await metricsError({ metrics: ['purchase_amout'] });
        expect(error.extensions?.code).toBe('UNKNOWN_MEMBER');
        expect(error.message).toContain('purchase_amout');
        expect(error.message).toContain('purchase_amount');
      });

      it('an unknown dimension is UNKNOWN_MEMBER', async () => {
        const error = await metricsError({ metrics: ['purchase_amount'], groupBy: [{ dimension: 'customer.risk_levl' }] });
        expect(error.extensions?.code).toBe('UNKNOWN_MEMBER');
        expect(error.message).toContain('risk_levl');
        const inFilter = await metricsError({ metrics: ['purchase_amount'], where: { dimension: 'customer.nope', op: 'EQ', values: ['x'] } });
        expect(inFilter.extensions?.code).toBe('UNKNOWN_MEMBER');
      });

      it('a dimension the metric cannot reach is INVALID_QUERY', async () => {
        const error = await metricsError({ metrics: ['new_customers'], groupBy: [{ dimension: 'product.product_type' }] });
        expect(error.extensions?.code).toBe('INVALID_QUERY');
        expect(error.message).toContain('product.product_type');
      });

      it('a value of the wrong type is BAD_USER_INPUT', async () => {
        const error = await metricsError({ metrics: ['new_customers'], where: { dimension: 'customer.city_tier', op: 'GT', values: ['abc'] } });
        expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      });

      it('a grain on a dimension that is not a time is INVALID_QUERY', async () => {
        const error = await metricsError({ metrics: ['purchase_amount'], groupBy: [{ dimension: 'customer.risk_level', grain: 'MONTH' }] });
        expect(error.extensions?.code).toBe('INVALID_QUERY');
      });

      it('a value that looks like SQL is only a value', async () => {
        const result = await metrics({
          metrics: ['new_customers'],
          groupBy: [{ dimension: 'customer.channel' }],
          where: { dimension: 'customer.channel', op: 'EQ', values: ["app'); DELETE FROM wealth.customers; --"] },
        });
        expect(result.rows).toEqual([]);
      });

      it('leaves every wealth table as it was', async () => {
        expect(await counts()).toEqual(before);
      });
    });
  });
});

/** Succeeded purchases by risk level over a range, for the ordering checks. */
function purchaseByRiskSql(range: Range): string {
  return `SELECT c.risk_level AS customer__risk_level, sum(f.amount)::float8 AS purchase_amount
    FROM wealth.transactions f JOIN wealth.customers c ON c.customer_id = f.customer_id
    WHERE ${SUCCEEDED_PURCHASE} AND ${inRange('f.occurred_at', range)}
    GROUP BY 1`;
}
