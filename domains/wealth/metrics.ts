import { defineMetric } from '../../modeling/dsl/define-metric.ts';
import { PUBLIC_FUNDS } from './models.ts';

const growth = 'growth-analytics';
const wealth = 'wealth-data';

/** DOMAIN.md's core metrics, plus a few that show the other metric types on the same data. */
export const wealthMetrics = [
  defineMetric({ name: 'new_customers', type: 'SIMPLE', fillNullsWith: 0, measure: 'customer.new_customers', owner: growth,
    description: 'Customers whose registration falls in the period.' }),
  defineMetric({ name: 'active_customers', type: 'SIMPLE', fillNullsWith: 0, measure: 'app_event.active_customers', owner: growth,
    description: 'Distinct customers with any app event in the period (MAU at month grain, DAU at day grain); anonymous events do not count.' }),
  defineMetric({ name: 'purchase_amount', type: 'SIMPLE', measure: 'transaction.purchase_amount', owner: wealth,
    description: 'Sum of succeeded purchase amounts (CNY).' }),
  defineMetric({ name: 'purchasers', type: 'SIMPLE', fillNullsWith: 0, measure: 'transaction.purchasers', owner: wealth,
    description: 'Distinct customers with at least one succeeded purchase in the period.' }),
  defineMetric({ name: 'purchase_conversion_rate', type: 'RATIO', numerator: 'purchasers', denominator: 'active_customers', owner: growth,
    description: 'Purchasers per active customer for the same period and slice; null when there are no active customers.' }),
  defineMetric({ name: 'public_fund_purchase_amount', type: 'SIMPLE', measure: 'transaction.purchase_amount', owner: wealth,
    filter: { dimension: 'product.product_type', op: 'IN', values: PUBLIC_FUNDS },
    description: 'Succeeded purchase amount of public funds (bond, equity and mixed funds).' }),
  defineMetric({ name: 'aum', type: 'SEMI_ADDITIVE', measure: 'holding.aum', owner: wealth,
    description: 'Assets under management: market value summed over customers and products on the last day with data in each period, never summed over days.' }),
  defineMetric({ name: 'placement_impressions', type: 'SIMPLE', fillNullsWith: 0, measure: 'app_event.placement_impressions', owner: growth,
    description: 'Count of placement_impression events.' }),
  defineMetric({ name: 'placement_clicks', type: 'SIMPLE', fillNullsWith: 0, measure: 'app_event.placement_clicks', owner: growth,
    description: 'Count of placement_click events.' }),
  defineMetric({ name: 'placement_ctr', type: 'RATIO', numerator: 'placement_clicks', denominator: 'placement_impressions', owner: growth,
    description: 'Placement clicks per impression.' }),
  defineMetric({
    name: 'first_purchase_success_rate', type: 'CONVERSION', owner: growth,
    base: 'app_event.purchase_submitters', conversion: 'app_event.purchase_succeeders',
    entity: { base: 'customer_id', conversion: 'customer_id' }, baseEvents: 'first_ever', window: '1 day',
    description: "Among customers whose first-ever purchase_submit is in the period, the share with a purchase_success within 24 hours after that first submit.",
  }),
  defineMetric({
    name: 'revisit_rate_7d', type: 'CONVERSION', owner: growth,
    base: 'app_event.app_openers', conversion: 'app_event.app_openers',
    entity: { base: 'customer_id', conversion: 'customer_id' }, baseEvents: 'first_in_period', window: { min: '1 day', max: '7 days' },
    description: 'Among customers with an app_open in the period, the share with another app_open more than 24 and at most 168 hours after their first app_open in the period.',
  }),
  defineMetric({ name: 'redemption_amount', type: 'SIMPLE', measure: 'transaction.redemption_amount', owner: wealth,
    description: 'Sum of succeeded redemption amounts (CNY).' }),
  defineMetric({ name: 'net_inflow', type: 'DERIVED', expression: 'purchase_amount - redemption_amount', inputs: ['purchase_amount', 'redemption_amount'], owner: wealth,
    description: 'Succeeded purchases minus succeeded redemptions (CNY).' }),
  defineMetric({
    name: 'purchase_amount_growth_mom', type: 'DERIVED', owner: wealth,
    expression: '(purchase_amount - purchase_amount_prev) / NULLIF(purchase_amount_prev, 0)',
    inputs: ['purchase_amount', { metric: 'purchase_amount', alias: 'purchase_amount_prev', offsetWindow: '1 month' }],
    description: 'Growth of purchase amount against the previous month (query by metric_time at MONTH).',
  }),
  defineMetric({ name: 'purchase_amount_30d', type: 'CUMULATIVE', measure: 'transaction.purchase_amount', window: '30 days', owner: wealth,
    description: 'Succeeded purchase amount over the trailing 30 days up to each day (first day of a coarser period).' }),
  defineMetric({ name: 'purchase_amount_mtd', type: 'CUMULATIVE', measure: 'transaction.purchase_amount', grainToDate: 'MONTH', periodAgg: 'last', owner: wealth,
    description: 'Succeeded purchase amount from the start of the month up to each day (the whole month at MONTH grain).' }),
];
