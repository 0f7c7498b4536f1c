/**
 * DOMAIN.md's 12 core metrics by Shanghai month and `customer.risk_level`, written by hand
 * as an analyst would write them against the warehouse, without looking at the compiler's
 * output. Every statement returns the columns the GraphQL `metrics` query names:
 * `metric_time__month` (date), `customer__risk_level`, and the metric.
 */

export interface Range {
  /** Inclusive first day, `YYYY-MM-DD`, Shanghai. */
  readonly from: string;
  /** Exclusive last day, `YYYY-MM-DD`, Shanghai. */
  readonly to: string;
}

const ZONE = 'Asia/Shanghai';
const MONTH = 'metric_time__month';
const RISK = 'customer__risk_level';
const PUBLIC_FUNDS = `('bond_fund', 'equity_fund', 'mixed_fund')`;

/** Shanghai month of a timestamptz, as a date. */
const monthOf = (column: string) => `date_trunc('month', ${column} AT TIME ZONE '${ZONE}')::date`;
/** Half-open [from, to) in Shanghai time, sargable on the timestamptz column. */
const within = (column: string, range: Range) =>
  `${column} >= (TIMESTAMP '${range.from}' AT TIME ZONE '${ZONE}') AND ${column} < (TIMESTAMP '${range.to}' AT TIME ZONE '${ZONE}')`;

const activeCustomers = (range: Range) => `
  SELECT ${monthOf('e.occurred_at')} AS ${MONTH}, c.risk_level AS ${RISK}, count(DISTINCT e.customer_id) AS active_customers
  FROM wealth.app_events e
  LEFT JOIN wealth.customers c ON c.customer_id = e.customer_id
  WHERE ${within('e.occurred_at', range)}
  GROUP BY 1, 2`;

const succeededPurchases = (aggregate: string, as: string, range: Range, publicFundsOnly = false) => `
  SELECT ${monthOf('t.occurred_at')} AS ${MONTH}, c.risk_level AS ${RISK}, ${aggregate} AS ${as}
  FROM wealth.transactions t
  LEFT JOIN wealth.customers c ON c.customer_id = t.customer_id
  ${publicFundsOnly ? 'JOIN wealth.products p ON p.product_id = t.product_id' : ''}
  WHERE t.txn_type = 'purchase' AND t.status = 'succeeded' AND ${within('t.occurred_at', range)}
    ${publicFundsOnly ? `AND p.product_type IN ${PUBLIC_FUNDS}` : ''}
  GROUP BY 1, 2`;

const eventCount = (eventName: string, as: string, range: Range) => `
  SELECT ${monthOf('e.occurred_at')} AS ${MONTH}, c.risk_level AS ${RISK}, count(*) AS ${as}
  FROM wealth.app_events e
  LEFT JOIN wealth.customers c ON c.customer_id = e.customer_id
  WHERE e.event_name = '${eventName}' AND ${within('e.occurred_at', range)}
  GROUP BY 1, 2`;

export const DIRECT_METRIC_SQL = {
  new_customers: (range: Range) => `
    SELECT ${monthOf('registered_at')} AS ${MONTH}, risk_level AS ${RISK}, count(*) AS new_customers
    FROM wealth.customers
    WHERE ${within('registered_at', range)}
    GROUP BY 1, 2`,

  active_customers: activeCustomers,

  purchase_amount: (range: Range) => succeededPurchases('sum(t.amount)', 'purchase_amount', range),

  purchasers: (range: Range) => succeededPurchases('count(DISTINCT t.customer_id)', 'purchasers', range),

  /** Purchasers over active customers of the same month and risk level; a group of either side counts. */
  purchase_conversion_rate: (range: Range) => `
    WITH buyers AS (${succeededPurchases('count(DISTINCT t.customer_id)', 'purchasers', range)}),
    active AS (${activeCustomers(range)})
    SELECT COALESCE(a.${MONTH}, b.${MONTH}) AS ${MONTH}, COALESCE(a.${RISK}, b.${RISK}) AS ${RISK},
      COALESCE(b.purchasers, 0)::numeric / NULLIF(a.active_customers, 0) AS purchase_conversion_rate
    FROM active a
    FULL JOIN buyers b ON b.${MONTH} = a.${MONTH} AND COALESCE(b.${RISK}, '') = COALESCE(a.${RISK}, '')`,

  public_fund_purchase_amount: (range: Range) => succeededPurchases('sum(t.amount)', 'public_fund_purchase_amount', range, true),

  /**
   * Market value on the last day with any holdings in each month, summed over customers and
   * products. The last day of each month is one backward probe of the as_of index.
   */
  aum: (range: Range) => `
    WITH months AS (
      SELECT m::date AS month, greatest(m::date, DATE '${range.from}') AS first_day, least((m + INTERVAL '1 month')::date, DATE '${range.to}') AS end_day
      FROM generate_series(date_trunc('month', DATE '${range.from}'), DATE '${range.to}' - 1, INTERVAL '1 month') AS m
    ),
    last_day AS (
      SELECT month, (SELECT max(as_of) FROM wealth.holdings_daily WHERE as_of >= first_day AND as_of < end_day) AS as_of
      FROM months
    )
    SELECT l.month AS ${MONTH}, c.risk_level AS ${RISK}, sum(h.market_value) AS aum
    FROM last_day l
    JOIN wealth.holdings_daily h ON h.as_of = l.as_of
    LEFT JOIN wealth.customers c ON c.customer_id = h.customer_id
    GROUP BY 1, 2`,

  placement_impressions: (range: Range) => eventCount('placement_impression', 'placement_impressions', range),

  placement_clicks: (range: Range) => eventCount('placement_click', 'placement_clicks', range),

  /** Clicks over impressions, both counted in one pass over the placement events. */
  placement_ctr: (range: Range) => `
    SELECT ${monthOf('e.occurred_at')} AS ${MONTH}, c.risk_level AS ${RISK},
      (count(*) FILTER (WHERE e.event_name = 'placement_click'))::numeric
        / NULLIF(count(*) FILTER (WHERE e.event_name = 'placement_impression'), 0) AS placement_ctr
    FROM wealth.app_events e
    LEFT JOIN wealth.customers c ON c.customer_id = e.customer_id
    WHERE e.event_name IN ('placement_click', 'placement_impression') AND ${within('e.occurred_at', range)}
    GROUP BY 1, 2`,

  /**
   * Customers whose first-ever purchase_submit falls in the month; converted when a
   * purchase_success follows within 24 hours (strictly after, at most 24 h).
   */
  first_purchase_success_rate: (range: Range) => `
    WITH firsts AS (
      SELECT customer_id, min(occurred_at) AS first_at
      FROM wealth.app_events
      WHERE event_name = 'purchase_submit' AND customer_id IS NOT NULL
      GROUP BY customer_id
    )
    SELECT ${monthOf('f.first_at')} AS ${MONTH}, c.risk_level AS ${RISK},
      avg(CASE WHEN EXISTS (
        SELECT 1 FROM wealth.app_events s
        WHERE s.customer_id = f.customer_id AND s.event_name = 'purchase_success'
          AND s.occurred_at > f.first_at AND s.occurred_at <= f.first_at + INTERVAL '24 hours'
      ) THEN 1 ELSE 0 END) AS first_purchase_success_rate
    FROM firsts f
    LEFT JOIN wealth.customers c ON c.customer_id = f.customer_id
    WHERE ${within('f.first_at', range)}
    GROUP BY 1, 2`,

  /**
   * Customers with an app_open in the month, anchored on their first one in that month;
   * converted when another app_open follows more than 24 and at most 168 hours later
   * (wherever it falls). Anonymous opens form the null group, with no customers: null.
   */
  revisit_rate_7d: (range: Range) => `
    WITH anchors AS (
      SELECT customer_id, ${monthOf('occurred_at')} AS month, min(occurred_at) AS first_at
      FROM wealth.app_events
      WHERE event_name = 'app_open' AND ${within('occurred_at', range)}
      GROUP BY 1, 2
    )
    SELECT a.month AS ${MONTH}, c.risk_level AS ${RISK},
      (count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM wealth.app_events o
        WHERE o.customer_id = a.customer_id AND o.event_name = 'app_open'
          AND o.occurred_at > a.first_at + INTERVAL '24 hours' AND o.occurred_at <= a.first_at + INTERVAL '168 hours'
      )))::numeric / NULLIF(count(a.customer_id), 0) AS revisit_rate_7d
    FROM anchors a
    LEFT JOIN wealth.customers c ON c.customer_id = a.customer_id
    GROUP BY 1, 2`,
} satisfies Record<string, (range: Range) => string>;

export type CoreMetric = keyof typeof DIRECT_METRIC_SQL;
export const CORE_METRICS = Object.keys(DIRECT_METRIC_SQL) as CoreMetric[];
