import { defineTag } from '../../modeling/tags/define-tag.ts';

const owner = 'customer-data';
const aumOnAsOfDate = { measure: 'holding.aum', window: { days: 1 } };

/** DOMAIN.md's core customer tags, evaluated as of a date. */
export const wealthTags = [
  defineTag({
    key: 'aum_tier',
    kind: 'ENUM',
    category: 'value',
    owner,
    description:
      "Tier by the customer's AUM on the as-of date: mass under 10,000; affluent to under 500,000; hnw to under 6,000,000; uhnw from 6,000,000; customers without holdings are mass.",
    cases: [
      { value: 'uhnw', rule: { aggregate: aumOnAsOfDate, op: 'GTE', values: ['6000000'] } },
      { value: 'hnw', rule: { aggregate: aumOnAsOfDate, op: 'GTE', values: ['500000'] } },
      { value: 'affluent', rule: { aggregate: aumOnAsOfDate, op: 'GTE', values: ['10000'] } },
    ],
    else: 'mass',
  }),
  defineTag({
    key: 'fund_buyer_30d',
    kind: 'BOOLEAN',
    category: 'behaviour',
    owner,
    description: 'At least one succeeded purchase of a public fund in the 30 days up to and including the as-of date.',
    rule: { aggregate: { measure: 'transaction.public_fund_purchases', window: { days: 30 } }, op: 'GT', values: ['0'] },
  }),
  defineTag({
    key: 'dormant_90d',
    kind: 'BOOLEAN',
    category: 'lifecycle',
    owner,
    description: 'No app event in the 90 days up to and including the as-of date.',
    rule: { aggregate: { measure: 'app_event.events', window: { days: 90 } }, op: 'EQ', values: ['0'] },
  }),
  defineTag({
    key: 'new_customer_30d',
    kind: 'BOOLEAN',
    category: 'lifecycle',
    owner,
    description: 'Registered in the 30 days up to and including the as-of date.',
    rule: { aggregate: { measure: 'customer.new_customers', window: { days: 30 } }, op: 'GT', values: ['0'] },
  }),
  defineTag({
    key: 'preferred_product_type',
    kind: 'ENUM',
    category: 'preference',
    owner,
    description:
      'The product type with the largest succeeded purchase amount in the last 365 days; ties go to the alphabetically first; null without purchases.',
    top: { aggregate: { measure: 'transaction.purchase_amount', window: { days: 365 } }, by: 'product.product_type' },
  }),
  defineTag({
    key: 'aum_amount',
    kind: 'NUMERIC',
    category: 'value',
    owner,
    description: "The customer's AUM on the as-of date (CNY), the amount aum_tier cuts into tiers; null without holdings on that date.",
    aggregate: aumOnAsOfDate,
  }),
  defineTag({
    key: 'purchase_amount_90d',
    kind: 'NUMERIC',
    category: 'behaviour',
    owner,
    description: 'Amount of succeeded purchases (CNY) in the 90 days up to and including the as-of date; null without purchases.',
    aggregate: { measure: 'transaction.purchase_amount', window: { days: 90 } },
  }),
  defineTag({
    key: 'risk_level',
    kind: 'ENUM',
    category: 'profile',
    owner,
    description: "The customer's assessed risk tolerance (customers.risk_level) as it stands.",
    cases: ['C1', 'C2', 'C3', 'C4', 'C5'].map((level) => ({ value: level, rule: { dimension: 'customer.risk_level', op: 'EQ', values: [level] } })),
    else: null,
  }),
];
