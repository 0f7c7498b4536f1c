import { defineMonitor } from '../../modeling/dsl/define-monitor.ts';

/** Daily succeeded purchases against the same weekday of the last four weeks. */
export const dailyPurchases = defineMonitor({
  key: 'daily_purchase_amount',
  title: '每日申购金额 Daily purchase amount',
  description: 'Fires when a day’s succeeded purchase amount is more than 50 % away from the mean of the same weekday over the last four weeks.',
  metric: 'purchase_amount',
  schedule: 'DAILY',
  condition: { kind: 'SEASONAL', periods: 4, tolerance: 0.5 },
  explainBy: ['customer.channel', 'customer.risk_level', 'product.product_type'],
});

/** The mini-programs' monthly purchase conversion against its floor (the incident of the demo data trips it). */
export const miniProgramConversion = defineMonitor({
  key: 'mini_program_conversion',
  title: '小程序购买转化率 Mini-program purchase conversion',
  description: 'Fires when the monthly purchase conversion of mini-program customers falls under 7.2 %, the floor the growth team committed to.',
  metric: 'purchase_conversion_rate',
  slice: { dimension: 'customer.channel', op: 'IN', values: ['alipay_miniprogram', 'wechat_miniprogram'] },
  schedule: 'MONTHLY',
  condition: { kind: 'THRESHOLD', below: 0.072 },
  explainBy: ['customer.risk_level', 'customer.age_band', 'customer.city_tier', 'customer.gender', 'customer.account_class'],
});

export const wealthMonitors = [dailyPurchases, miniProgramConversion];
