import { defineModel } from '../../modeling/dsl/define-model.ts';

const TIME_ZONE = 'Asia/Shanghai';
const PUBLIC_FUND_TYPES = ['bond_fund', 'equity_fund', 'mixed_fund'];
const SUCCEEDED_PURCHASE = {
  and: [
    { dimension: 'txn_type', op: 'EQ' as const, values: ['purchase'] },
    { dimension: 'status', op: 'EQ' as const, values: ['succeeded'] },
  ],
};
const eventNamed = (name: string) => ({ dimension: 'event_name', op: 'EQ' as const, values: [name] });

export const customer = defineModel({
  name: 'customer',
  description: 'Registered customers of the app and mini-programs, one row per customer.',
  owner: 'growth-analytics',
  table: 'wealth.customers',
  primaryKey: 'customer_id',
  timeZone: TIME_ZONE,
  defaultTimeDimension: 'registered_at',
  dimensions: {
    customer_id: { type: 'string', description: 'Customer identifier.', sensitivity: 'personal' },
    registered_at: { type: 'time', description: 'When the customer registered.', subDaySensitivity: 'personal' },
    kyc_completed_at: { type: 'time', description: 'When know-your-customer checks completed; null while pending.', subDaySensitivity: 'personal' },
    kyc_completed: { type: 'boolean', sql: 'kyc_completed_at IS NOT NULL', description: 'Whether KYC is complete.' },
    channel: { type: 'string', description: 'Acquisition channel: app, alipay_miniprogram, wechat_miniprogram, branch or web.' },
    city_tier: { type: 'number', description: 'Tier of the customer city, 1 (largest) to 4.' },
    age_band: { type: 'string', description: 'Age band: 18-24, 25-34, 35-44, 45-54 or 55+.' },
    gender: { type: 'string', description: 'Gender as declared.' },
    risk_level: { type: 'string', description: 'Assessed risk tolerance, C1 (lowest) to C5.' },
    account_class: { type: 'string', description: 'Account class: type1, or type2 (Type II e-account).' },
  },
  measures: {
    new_customers: { aggregation: 'count_distinct', sql: 'customer_id', description: 'Customers registered in the period.' },
  },
  joins: {
    transaction: { model: 'transaction', cardinality: 'one_to_many', on: { customer_id: 'customer_id' } },
    holding: { model: 'holding', cardinality: 'one_to_many', on: { customer_id: 'customer_id' } },
    app_event: { model: 'app_event', cardinality: 'one_to_many', on: { customer_id: 'customer_id' } },
    risk_assessment: { model: 'risk_assessment', cardinality: 'many_to_one', on: { customer_id: 'customer_id' } },
  },
});

/**
 * The history of each customer's assessed risk tolerance, a slowly changing dimension: a
 * metric sliced by `risk_assessment.risk_level` reads the level in effect on the day of each
 * row (a purchase is counted under the level the customer had when buying), where
 * `customer.risk_level` is the level as it stands today.
 */
export const riskAssessment = defineModel({
  name: 'risk_assessment',
  description: "Customers' risk-tolerance assessments over time: one row per assessment, in effect from valid_from until valid_to.",
  owner: 'wealth-data',
  table: 'wealth.risk_assessments',
  primaryKey: ['customer_id', 'valid_from'],
  timeZone: TIME_ZONE,
  validity: { start: 'valid_from', end: 'valid_to' },
  dimensions: {
    risk_level: {
      type: 'string',
      description: 'Risk tolerance assessed, C1 (lowest) to C5, as in effect at the time of each row (a purchase: when it was placed).',
      sensitivity: 'internal',
    },
    valid_from: { type: 'time', storage: 'date', description: 'Shanghai day the assessment took effect.' },
    valid_to: { type: 'time', storage: 'date', description: 'Shanghai day the next assessment took effect; null for the one in effect now.' },
  },
});

export const product = defineModel({
  name: 'product',
  description: 'Wealth products on sale: funds, money-market, wealth management and deposits.',
  owner: 'product-data',
  table: 'wealth.products',
  primaryKey: 'product_id',
  timeZone: TIME_ZONE,
  defaultTimeDimension: 'launched_at',
  dimensions: {
    product_id: { type: 'string', description: 'Product identifier.' },
    product_name: { type: 'string', sql: 'name', description: 'Display name.' },
    product_type: { type: 'string', description: 'money_market, bond_fund, equity_fund, mixed_fund, wealth_management or deposit.' },
    is_public_fund: { type: 'boolean', sql: `product_type IN ('${PUBLIC_FUND_TYPES.join("', '")}')`, description: 'Bond, equity or mixed fund.' },
    risk_rating: { type: 'string', description: 'Product risk rating, R1 (lowest) to R5.' },
    launched_at: { type: 'time', storage: 'date', description: 'Launch date.' },
  },
  measures: {
    products: { aggregation: 'count', description: 'Products launched in the period.' },
  },
});

export const transaction = defineModel({
  name: 'transaction',
  description: 'Purchases, redemptions and dividends, one row per transaction.',
  owner: 'wealth-data',
  table: 'wealth.transactions',
  primaryKey: 'txn_id',
  timeZone: TIME_ZONE,
  defaultTimeDimension: 'occurred_at',
  dimensions: {
    txn_id: { type: 'string', description: 'Transaction identifier.', sensitivity: 'personal' },
    txn_type: { type: 'string', description: 'purchase, redemption or dividend.' },
    status: { type: 'string', description: 'succeeded, failed or pending.' },
    channel: { type: 'string', description: 'Channel the transaction was placed through.' },
    occurred_at: { type: 'time', description: 'When the transaction was placed.', subDaySensitivity: 'personal' },
  },
  measures: {
    purchase_amount: { aggregation: 'sum', sql: 'amount', filter: SUCCEEDED_PURCHASE, description: 'Amount of succeeded purchases (CNY).' },
    purchasers: { aggregation: 'count_distinct', sql: 'customer_id', filter: SUCCEEDED_PURCHASE, description: 'Customers with a succeeded purchase.' },
    purchases: { aggregation: 'count', filter: SUCCEEDED_PURCHASE, description: 'Succeeded purchases.' },
    public_fund_purchases: {
      aggregation: 'count',
      filter: { and: [...SUCCEEDED_PURCHASE.and, { dimension: 'product.product_type', op: 'IN', values: PUBLIC_FUND_TYPES }] },
      description: 'Succeeded purchases of public funds (bond, equity and mixed funds).',
    },
    redemption_amount: {
      aggregation: 'sum',
      sql: 'amount',
      filter: {
        and: [
          { dimension: 'txn_type', op: 'EQ', values: ['redemption'] },
          { dimension: 'status', op: 'EQ', values: ['succeeded'] },
        ],
      },
      description: 'Amount of succeeded redemptions (CNY).',
    },
    transactions: { aggregation: 'count', description: 'Transactions of any type and status.' },
  },
  joins: {
    customer: { model: 'customer', cardinality: 'many_to_one', on: { customer_id: 'customer_id' } },
    product: { model: 'product', cardinality: 'many_to_one', on: { product_id: 'product_id' } },
  },
});

export const holding = defineModel({
  name: 'holding',
  description: 'Daily positions: one row per customer, product and day with a non-zero market value.',
  owner: 'wealth-data',
  table: 'wealth.holdings_daily',
  primaryKey: ['customer_id', 'product_id', 'as_of'],
  timeZone: TIME_ZONE,
  defaultTimeDimension: 'as_of',
  dimensions: {
    as_of: { type: 'time', storage: 'date', description: 'Day of the position.' },
  },
  measures: {
    aum: {
      aggregation: 'sum',
      sql: 'market_value',
      nonAdditive: { dimension: 'as_of', window: 'max' },
      description: 'Market value on the last day with data in the period: summed over customers and products, never over days.',
    },
  },
  joins: {
    customer: { model: 'customer', cardinality: 'many_to_one', on: { customer_id: 'customer_id' } },
    product: { model: 'product', cardinality: 'many_to_one', on: { product_id: 'product_id' } },
  },
});

export const appEvent = defineModel({
  name: 'app_event',
  description: 'Behaviour events from the app and mini-programs, one row per event.',
  owner: 'growth-analytics',
  table: 'wealth.app_events',
  primaryKey: 'event_id',
  timeZone: TIME_ZONE,
  defaultTimeDimension: 'occurred_at',
  dimensions: {
    event_id: { type: 'string', description: 'Event identifier.', sensitivity: 'personal' },
    customer_id: { type: 'string', description: 'Customer; null for anonymous events.', sensitivity: 'personal' },
    anonymous_id: { type: 'string', description: 'Device or visitor id of an event before sign-in.', sensitivity: 'personal' },
    event_name: {
      type: 'string',
      description: 'app_open, page_view, placement_impression, placement_click, product_view, purchase_submit, purchase_success, register, login.',
    },
    occurred_at: { type: 'time', description: 'When the event happened.', subDaySensitivity: 'personal' },
    channel: { type: 'string', description: 'Channel the event came from.' },
    page: { type: 'string', description: 'Page the event happened on.' },
    placement_id: { type: 'string', description: 'Placement shown or clicked.' },
  },
  measures: {
    active_customers: { aggregation: 'count_distinct', sql: 'customer_id', description: 'Distinct identified customers with any event.' },
    placement_impressions: { aggregation: 'count', filter: eventNamed('placement_impression'), description: 'Placement impressions.' },
    placement_clicks: { aggregation: 'count', filter: eventNamed('placement_click'), description: 'Placement clicks.' },
    purchase_submitters: {
      aggregation: 'count_distinct',
      sql: 'customer_id',
      filter: eventNamed('purchase_submit'),
      description: 'Customers who submitted a purchase.',
    },
    purchase_succeeders: {
      aggregation: 'count_distinct',
      sql: 'customer_id',
      filter: eventNamed('purchase_success'),
      description: 'Customers with a successful purchase event.',
    },
    app_openers: { aggregation: 'count_distinct', sql: 'customer_id', filter: eventNamed('app_open'), description: 'Customers who opened the app.' },
    events: { aggregation: 'count', description: 'Events of any kind.' },
  },
  joins: {
    customer: { model: 'customer', cardinality: 'many_to_one', on: { customer_id: 'customer_id' } },
    product: { model: 'product', cardinality: 'many_to_one', on: { product_id: 'product_id' } },
  },
});

export const PUBLIC_FUNDS = PUBLIC_FUND_TYPES;
export const wealthModels = [customer, product, transaction, holding, appEvent, riskAssessment];
