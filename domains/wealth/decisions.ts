import type { ContentSpec, DecisionDefinitions, PlacementSpec, StrategySpec } from '../../decisioning/definitions.ts';

/** The payload every demo placement shows: a banner or card with a title and a deep link. */
const cardSchema = {
  type: 'object',
  required: ['title', 'link'],
  additionalProperties: false,
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 40 },
    subtitle: { type: 'string', maxLength: 80 },
    image: { type: 'string', pattern: '^(https://|/)' },
    link: { type: 'string', pattern: '^(strata-demo://|https://)' },
  },
};

const placement = (spec: Omit<PlacementSpec, 'slots' | 'contentSchema'>): PlacementSpec => ({ slots: 1, contentSchema: cardSchema, ...spec });

const content = (key: string, on: string, title: string, subtitle: string, link: string): ContentSpec => ({
  key,
  placement: on,
  description: subtitle,
  payload: { title, subtitle, image: `/demo/${key}.png`, link },
  validFrom: null,
  validTo: null,
});

const strategy = (
  spec: Omit<StrategySpec, 'audience' | 'experiment' | 'trafficShare' | 'scheduleFrom' | 'scheduleTo'> & Partial<StrategySpec>,
): StrategySpec => ({
  audience: null,
  experiment: null,
  trafficShare: 1,
  scheduleFrom: null,
  scheduleTo: null,
  ...spec,
});

const notFundBuyer = { tag: 'fund_buyer_30d', op: 'EQ', values: ['false'] };

/**
 * The bundled demo of the decision layer, published by `npm start` when the database has
 * none yet. Two operating cases of the seed: a bank's mini program layering new and existing
 * customers (拉新获客, `mini_program_home`), and a brokerage app guiding wealth-product and
 * stock customers toward public funds (促活和交叉购买, `home_banner` and `wealth_mall_top`),
 * with a running A/B test of the home banner's copy judged by `purchase_success` within 7
 * days. The demo warehouse has no stock trades, so "stock customers" are read as customers
 * with a high risk tolerance (C4, C5) who bought no fund in 30 days.
 */
export const wealthDemoDecisions: DecisionDefinitions = {
  placements: [
    placement({
      key: 'home_banner',
      channel: 'app',
      page: 'home',
      description: 'The banner at the top of the app home page.',
      fallback: 'home_banner_default',
      fatigue: [
        { scope: 'CONTENT', maxImpressions: 3, windowDays: 7, period: null },
        { scope: 'PLACEMENT', maxImpressions: 10, windowDays: null, period: 'DAY' },
      ],
    }),
    placement({
      key: 'wealth_mall_top',
      channel: 'app',
      page: 'wealth_mall',
      description: 'The first card of the wealth mall (理财商城).',
      fallback: 'wealth_mall_default',
      fatigue: [{ scope: 'CONTENT', maxImpressions: 2, windowDays: null, period: 'WEEK' }],
    }),
    placement({
      key: 'mini_program_home',
      channel: 'wechat_miniprogram',
      page: 'mini_home',
      description: "The hero card of the bank's WeChat mini program.",
      fallback: 'mini_home_default',
      fatigue: [{ scope: 'CONTENT', maxImpressions: 5, windowDays: null, period: 'MONTH' }],
    }),
  ],
  contents: [
    content('home_banner_default', 'home_banner', '稳健理财 从这里开始', 'The evergreen home banner.', 'strata-demo://wealth/home'),
    content('banner_welcome_back', 'home_banner', '好久不见 看看您的收益', 'Welcome back for customers dormant 90 days.', 'strata-demo://wealth/portfolio'),
    content('banner_fund_generic', 'home_banner', '精选公募基金', 'Control copy of the home banner test.', 'strata-demo://funds/featured'),
    content('banner_fund_social_proof', 'home_banner', '10万人已定投的基金', 'Social-proof copy of the home banner test.', 'strata-demo://funds/featured'),
    content('wealth_mall_default', 'wealth_mall_top', '理财商城', 'The evergreen wealth mall card.', 'strata-demo://mall'),
    content(
      'mall_bond_fund_for_wealth_buyers',
      'wealth_mall_top',
      '比银行理财更灵活的债基',
      'Bond funds for wealth-product buyers.',
      'strata-demo://funds/bond',
    ),
    content('mall_fund_starter_pack', 'wealth_mall_top', '基金新手礼包', 'Second choice for wealth-product buyers.', 'strata-demo://funds/starter'),
    content('mall_equity_fund_for_traders', 'wealth_mall_top', '交给专业基金经理', 'Equity funds for stock customers.', 'strata-demo://funds/equity'),
    content('mini_home_default', 'mini_program_home', '开通II类账户', 'The evergreen mini-program card.', 'strata-demo://mini/open'),
    content('mini_first_purchase_coupon', 'mini_program_home', '新客首购 领取加息券', 'First-purchase coupon for new customers.', 'strata-demo://mini/coupon'),
    content('mini_kyc_guide', 'mini_program_home', '三步完成风险测评', 'Risk assessment guide for new customers.', 'strata-demo://mini/kyc'),
    content('mini_existing_upgrade', 'mini_program_home', '老客专享 财富体检', 'Portfolio check-up for existing customers.', 'strata-demo://mini/checkup'),
  ],
  experiments: [
    {
      key: 'home_banner_copy',
      placement: 'home_banner',
      description: 'Does social proof in the banner copy lift fund purchases?',
      seed: 'home_banner_copy',
      coverage: 1,
      variants: [
        { key: 'control', weight: 0.5, content: 'banner_fund_generic' },
        { key: 'social_proof', weight: 0.5, content: 'banner_fund_social_proof' },
      ],
      holdoutShare: null,
      goal: { metric: null, event: 'purchase_success', windowDays: 7 },
      guardrails: ['placement_ctr'],
    },
  ],
  strategies: [
    strategy({
      key: 'home_dormant_welcome_back',
      placement: 'home_banner',
      description: '促活: customers dormant 90 days see their portfolio first.',
      rule: { tag: 'dormant_90d', op: 'EQ', values: ['true'] },
      contents: ['banner_welcome_back'],
      priority: 30,
    }),
    strategy({
      key: 'home_public_fund_test',
      placement: 'home_banner',
      description: '交叉购买: customers without a fund purchase in 30 days enter the banner copy test.',
      rule: notFundBuyer,
      contents: [],
      experiment: 'home_banner_copy',
      priority: 10,
    }),
    strategy({
      key: 'mall_wealth_buyers_to_funds',
      placement: 'wealth_mall_top',
      description: '交叉购买: wealth-product buyers (理财, money market, deposits) without a fund purchase see bond funds first.',
      rule: { and: [{ tag: 'preferred_product_type', op: 'IN', values: ['wealth_management', 'money_market', 'deposit'] }, notFundBuyer] },
      contents: ['mall_bond_fund_for_wealth_buyers', 'mall_fund_starter_pack'],
      priority: 20,
    }),
    strategy({
      key: 'mall_stock_customers_to_funds',
      placement: 'wealth_mall_top',
      description: '交叉购买: stock customers (high risk tolerance, no fund purchase) see equity funds.',
      rule: { and: [{ tag: 'risk_level', op: 'IN', values: ['C4', 'C5'] }, notFundBuyer] },
      contents: ['mall_equity_fund_for_traders'],
      priority: 10,
    }),
    strategy({
      key: 'mini_new_customers',
      placement: 'mini_program_home',
      description: '拉新获客: customers registered in the last 30 days get the first-purchase coupon, then the risk assessment guide.',
      rule: { tag: 'new_customer_30d', op: 'EQ', values: ['true'] },
      contents: ['mini_first_purchase_coupon', 'mini_kyc_guide'],
      priority: 20,
    }),
    strategy({
      key: 'mini_existing_customers',
      placement: 'mini_program_home',
      description: '拉新获客: existing customers are layered apart and offered a portfolio check-up.',
      rule: { tag: 'new_customer_30d', op: 'EQ', values: ['false'] },
      contents: ['mini_existing_upgrade'],
      priority: 10,
    }),
  ],
};
