import { defineRollup } from '../../modeling/dsl/define-rollup.ts';
import { WEALTH_CORE_METRICS } from './metrics.ts';

/** The customer's own dimensions a dashboard slices by, and every published tag. */
export const WEALTH_ROLLUP_DIMENSIONS = [
  'customer.channel',
  'customer.city_tier',
  'customer.age_band',
  'customer.gender',
  'customer.risk_level',
  'customer.account_class',
  'customer.kyc_completed',
  'customer.tag.*',
] as const;

/** Core metrics stored by month: every one but AUM, whose last-day rule needs days. */
const MONTHLY = WEALTH_CORE_METRICS.filter((m) => m !== 'aum');

/**
 * Rollups making every core metric by month, alone or by any one customer dimension or
 * tag, read from a few hundred precomputed rows. Distinct counts and conversions are exact
 * only at a rollup's own dimensions, hence one rollup per dimension rather than one for all;
 * AUM is stored by day, so its last day with data in any period (and after any filter on
 * the dimension) is chosen as raw reads choose it. The funnels of the template dashboards
 * are stored per month of entries, alone and by the grouping a dashboard shows; a funnel
 * over another range or grouping is answered from raw events.
 */
export const wealthRollups = [
  defineRollup({
    name: 'core_monthly',
    description: 'Core metrics (all but AUM) by month.',
    metrics: MONTHLY,
    timeGrain: 'MONTH',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'customers_monthly_by',
    description: "New customers by month and channel (the templates' slice): reads customers only, so events never make it stale.",
    metrics: ['new_customers'],
    eachOf: ['customer.channel'],
    timeGrain: 'MONTH',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'core_monthly_by',
    description: 'Core metrics (all but AUM) by month and one customer dimension or tag.',
    metrics: MONTHLY,
    eachOf: WEALTH_ROLLUP_DIMENSIONS,
    timeGrain: 'MONTH',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'aum_monthly',
    description: 'AUM by month (at its last day with data): the trend and one month read without its days.',
    metrics: ['aum'],
    timeGrain: 'MONTH',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'aum_daily',
    description: 'AUM by day (the last day of any period is read from it).',
    metrics: ['aum'],
    timeGrain: 'DAY',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'aum_daily_by',
    description: 'AUM by day and one customer dimension or tag.',
    metrics: ['aum'],
    eachOf: WEALTH_ROLLUP_DIMENSIONS,
    timeGrain: 'DAY',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'flows_monthly',
    description: 'Purchases and net inflow by month, alone or by the transaction channel or product type.',
    metrics: ['purchase_amount', 'net_inflow'],
    eachOf: ['transaction.channel', 'product.product_type'],
    timeGrain: 'MONTH',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'flows_monthly_total',
    description: 'Purchases and net inflow by month.',
    metrics: ['purchase_amount', 'net_inflow'],
    timeGrain: 'MONTH',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'placement_monthly_by',
    description: 'Placement impressions, clicks and CTR by month and placement.',
    metrics: ['placement_impressions', 'placement_clicks', 'placement_ctr'],
    eachOf: ['app_event.placement_id'],
    timeGrain: 'MONTH',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'placement_weekly_by',
    description: 'Placement impressions, clicks and CTR by week (from Monday) and placement.',
    metrics: ['placement_impressions', 'placement_clicks', 'placement_ctr'],
    eachOf: ['app_event.placement_id'],
    timeGrain: 'WEEK',
    partitionGrain: 'WEEK',
  }),
  defineRollup({
    name: 'aum_daily_by_product',
    description: 'AUM by day and product type.',
    metrics: ['aum'],
    eachOf: ['product.product_type'],
    timeGrain: 'DAY',
    partitionGrain: 'MONTH',
  }),
  defineRollup({
    name: 'purchase_flow_monthly',
    description: 'The purchase flow funnel of each month of entries: customers per step and median time between steps.',
    funnel: 'purchase_flow',
    timeGrain: 'MONTH',
  }),
  defineRollup({
    name: 'purchase_flow_monthly_by',
    description: 'The purchase flow funnel of each month of entries by channel.',
    funnel: 'purchase_flow',
    eachOf: ['customer.channel'],
    timeGrain: 'MONTH',
  }),
  defineRollup({
    name: 'placement_flow_monthly',
    description: 'The placement-to-purchase funnel of each month of entries.',
    funnel: 'placement_flow',
    timeGrain: 'MONTH',
  }),
];
