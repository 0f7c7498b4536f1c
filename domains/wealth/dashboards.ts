import { defineDashboard, type JsonObject, type RelativeRange } from '../../modeling/dsl/define-dashboard.ts';

const last = (grain: RelativeRange['grain'], periods = 1, offset = 0) => ({ relative: { grain, periods, ...(offset ? { offset } : {}) } });
const LAST_MONTH = last('MONTH');
const PREVIOUS_MONTH = last('MONTH', 1, 1);
const LAST_YEAR = last('MONTH', 12);
const monthly = (metrics: string[], extra: JsonObject = {}): JsonObject => ({
  metrics,
  groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }],
  timeRange: LAST_YEAR,
  orderBy: [{ field: 'metric_time' }],
  ...extra,
});
const lastMonthBy = (metrics: string[], dimension: string): JsonObject => ({
  metrics,
  groupBy: [{ dimension }],
  timeRange: LAST_MONTH,
  orderBy: [{ field: dimension }],
});
const change = (metric: string, dimensions: string[]): JsonObject => ({ metric, base: PREVIOUS_MONTH, current: LAST_MONTH, dimensions });

/** 目标管理: the cockpit of goals, with the numbers they are measured on. */
export const goalTracking = defineDashboard({
  key: 'goal_tracking',
  title: '目标管理',
  titleEn: 'Goal tracking',
  description: 'Every goal with its progress and the contribution of its child goals, beside the metrics goals are set on.',
  descriptionZh: '每个目标的进度及其子目标的贡献，并列出目标所依据的指标。',
  tiles: [
    {
      key: 'goals',
      title: '目标进度',
      titleEn: 'Goals',
      kind: 'GOAL',
      visualization: 'progress',
      query: {},
      description: 'All goals (`goals`): actual, progress, children.',
      descriptionZh: '全部目标（`goals`）：实际值、进度与子目标。',
    },
    {
      key: 'purchase_amount_month',
      title: '申购金额',
      titleEn: 'Purchase amount',
      kind: 'METRIC',
      visualization: 'number',
      query: { metrics: ['purchase_amount'], timeRange: LAST_MONTH },
    },
    {
      key: 'net_inflow_month',
      title: '净流入',
      titleEn: 'Net inflow',
      kind: 'METRIC',
      visualization: 'number',
      query: { metrics: ['net_inflow'], timeRange: LAST_MONTH },
    },
    { key: 'aum_month', title: '资产规模', titleEn: 'AUM', kind: 'METRIC', visualization: 'number', query: { metrics: ['aum'], timeRange: LAST_MONTH } },
    {
      key: 'purchase_trend',
      title: '申购金额趋势',
      titleEn: 'Purchase amount by month',
      kind: 'METRIC',
      visualization: 'line',
      query: monthly(['purchase_amount', 'net_inflow']),
    },
    {
      key: 'purchase_change',
      title: '申购金额异动',
      titleEn: 'Purchase amount change',
      kind: 'CHANGE',
      visualization: 'table',
      query: change('purchase_amount', ['customer.channel', 'customer.risk_level', 'product.product_type']),
    },
  ],
});

/** 阵地效率: how the app's placements perform. */
export const placementEfficiency = defineDashboard({
  key: 'placement_efficiency',
  title: '阵地效率',
  titleEn: 'Placement efficiency',
  description: 'Impressions, clicks and click-through of each placement, and how placements lead to purchases.',
  descriptionZh: '各阵地的曝光、点击与点击率，以及阵地如何带来申购。',
  tiles: [
    {
      key: 'ctr_month',
      title: '点击率',
      titleEn: 'Click-through rate',
      kind: 'METRIC',
      visualization: 'number',
      query: { metrics: ['placement_ctr'], timeRange: LAST_MONTH },
    },
    {
      key: 'by_placement',
      title: '各阵地曝光点击',
      titleEn: 'By placement',
      kind: 'METRIC',
      visualization: 'table',
      query: lastMonthBy(['placement_impressions', 'placement_clicks', 'placement_ctr'], 'app_event.placement_id'),
    },
    { key: 'ctr_trend', title: '点击率趋势', titleEn: 'CTR by month', kind: 'METRIC', visualization: 'line', query: monthly(['placement_ctr']) },
    {
      key: 'placement_funnel',
      title: '阵地转化漏斗',
      titleEn: 'Placement to purchase',
      kind: 'FUNNEL',
      visualization: 'funnel',
      query: { funnel: 'placement_flow', timeRange: LAST_MONTH },
    },
    {
      key: 'ctr_change',
      title: '点击率异动',
      titleEn: 'CTR change',
      kind: 'CHANGE',
      visualization: 'table',
      query: change('placement_ctr', ['app_event.placement_id', 'customer.channel', 'customer.risk_level']),
    },
  ],
});

/** 策略跟踪: what the strategies move, week by week. */
export const strategyTracking = defineDashboard({
  key: 'strategy_tracking',
  title: '策略跟踪',
  titleEn: 'Strategy tracking',
  description: 'Clicks on the placements strategies fill, purchase conversion by customer segment, and what moved them last month.',
  descriptionZh: '策略所投放阵地的点击、各客群的申购转化，以及上月的异动原因。',
  tiles: [
    {
      key: 'clicks_by_week',
      title: '各阵地周点击',
      titleEn: 'Clicks by placement and week',
      kind: 'METRIC',
      visualization: 'stacked_bar',
      query: {
        metrics: ['placement_clicks'],
        groupBy: [{ dimension: 'metric_time', grain: 'WEEK' }, { dimension: 'app_event.placement_id' }],
        timeRange: last('MONTH', 3),
      },
    },
    {
      key: 'conversion_trend',
      title: '购买转化率趋势',
      titleEn: 'Purchase conversion by month',
      kind: 'METRIC',
      visualization: 'line',
      query: monthly(['purchase_conversion_rate']),
    },
    {
      key: 'conversion_by_risk',
      title: '各风险等级转化率',
      titleEn: 'Conversion by risk level',
      kind: 'METRIC',
      visualization: 'bar',
      query: lastMonthBy(['purchase_conversion_rate'], 'customer.risk_level'),
    },
    {
      key: 'conversion_change',
      title: '转化率异动',
      titleEn: 'Conversion change',
      kind: 'CHANGE',
      visualization: 'table',
      query: change('purchase_conversion_rate', ['customer.channel', 'customer.risk_level', 'customer.age_band']),
    },
  ],
});

/** 基础流程: the basic flow as a funnel. */
export const basicFlow = defineDashboard({
  key: 'basic_flow',
  title: '基础流程',
  titleEn: 'Basic flow',
  description: 'From opening the app to a confirmed purchase: the funnel, by channel, and the conversion rates along it.',
  descriptionZh: '从打开 App 到申购成功：漏斗、分渠道漏斗及沿途各步的转化率。',
  tiles: [
    {
      key: 'flow',
      title: '购买流程漏斗',
      titleEn: 'Purchase flow',
      kind: 'FUNNEL',
      visualization: 'funnel',
      query: { funnel: 'purchase_flow', timeRange: LAST_MONTH },
    },
    {
      key: 'flow_by_channel',
      title: '分渠道漏斗',
      titleEn: 'Purchase flow by channel',
      kind: 'FUNNEL',
      visualization: 'table',
      query: { funnel: 'purchase_flow', timeRange: LAST_MONTH, groupBy: [{ dimension: 'customer.channel' }] },
    },
    {
      key: 'first_purchase_success',
      title: '首购成功率',
      titleEn: 'First purchase success',
      kind: 'METRIC',
      visualization: 'line',
      query: monthly(['first_purchase_success_rate']),
    },
    { key: 'revisit', title: '7日回访率', titleEn: '7-day revisit rate', kind: 'METRIC', visualization: 'line', query: monthly(['revisit_rate_7d']) },
  ],
});

/** 渠道分析: acquisition and business by channel. */
export const channels = defineDashboard({
  key: 'channels',
  title: '渠道分析',
  titleEn: 'Channels',
  description: 'New and active customers, purchases and conversion by channel.',
  descriptionZh: '各渠道的新客、活跃客户、申购与转化。',
  tiles: [
    {
      key: 'new_by_channel',
      title: '各渠道新客',
      titleEn: 'New customers by channel',
      kind: 'METRIC',
      visualization: 'stacked_bar',
      query: monthly(['new_customers'], { groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.channel' }] }),
    },
    {
      key: 'active_by_channel',
      title: '各渠道活跃',
      titleEn: 'Active customers by channel',
      kind: 'METRIC',
      visualization: 'bar',
      query: lastMonthBy(['active_customers'], 'customer.channel'),
    },
    {
      key: 'amount_by_channel',
      title: '各交易渠道申购',
      titleEn: 'Purchases by transaction channel',
      kind: 'METRIC',
      visualization: 'pie',
      query: lastMonthBy(['purchase_amount'], 'transaction.channel'),
    },
    {
      key: 'conversion_by_channel',
      title: '各渠道转化率',
      titleEn: 'Conversion by channel',
      kind: 'METRIC',
      visualization: 'bar',
      query: lastMonthBy(['purchase_conversion_rate'], 'customer.channel'),
    },
    {
      key: 'flow_by_channel',
      title: '分渠道漏斗',
      titleEn: 'Purchase flow by channel',
      kind: 'FUNNEL',
      visualization: 'table',
      query: { funnel: 'purchase_flow', timeRange: LAST_MONTH, groupBy: [{ dimension: 'customer.channel' }] },
    },
  ],
});

/** 用户结构: who the customers are. */
export const customerStructure = defineDashboard({
  key: 'customer_structure',
  title: '用户结构',
  titleEn: 'Customer structure',
  description: 'Active customers by age, risk level and city tier, and assets by AUM tier.',
  descriptionZh: '活跃客户的年龄、风险等级与城市层级分布，以及按 AUM 分层的资产。',
  tiles: [
    {
      key: 'by_age',
      title: '年龄分布',
      titleEn: 'By age band',
      kind: 'METRIC',
      visualization: 'pie',
      query: lastMonthBy(['active_customers'], 'customer.age_band'),
    },
    {
      key: 'by_risk',
      title: '风险等级分布',
      titleEn: 'By risk level',
      kind: 'METRIC',
      visualization: 'bar',
      query: lastMonthBy(['active_customers'], 'customer.risk_level'),
    },
    {
      key: 'by_city_tier',
      title: '城市等级分布',
      titleEn: 'By city tier',
      kind: 'METRIC',
      visualization: 'bar',
      query: lastMonthBy(['active_customers'], 'customer.city_tier'),
    },
    {
      key: 'aum_by_tier',
      title: '资产层级',
      titleEn: 'AUM by tier',
      kind: 'METRIC',
      visualization: 'pie',
      query: lastMonthBy(['aum'], 'customer.tag.aum_tier'),
    },
    {
      key: 'aum_by_product',
      title: '产品类型持仓',
      titleEn: 'AUM by product type',
      kind: 'METRIC',
      visualization: 'stacked_bar',
      query: lastMonthBy(['aum'], 'product.product_type'),
    },
  ],
});

/** 用户健康度: are customers staying active and invested. */
export const customerHealth = defineDashboard({
  key: 'customer_health',
  title: '用户健康度',
  titleEn: 'Customer health',
  description: 'Activity, revisits, assets and net inflow month by month, dormant customers, and what moved activity last month.',
  descriptionZh: '逐月的活跃、回访、资产与净流入，沉睡客户，以及上月活跃度的异动原因。',
  tiles: [
    {
      key: 'active_trend',
      title: '月活跃用户',
      titleEn: 'Monthly active customers',
      kind: 'METRIC',
      visualization: 'line',
      query: monthly(['active_customers']),
    },
    { key: 'revisit_trend', title: '7日回访率', titleEn: '7-day revisit rate', kind: 'METRIC', visualization: 'line', query: monthly(['revisit_rate_7d']) },
    { key: 'aum_trend', title: '资产规模趋势', titleEn: 'AUM by month', kind: 'METRIC', visualization: 'line', query: monthly(['aum']) },
    { key: 'net_inflow_trend', title: '净流入趋势', titleEn: 'Net inflow by month', kind: 'METRIC', visualization: 'bar', query: monthly(['net_inflow']) },
    {
      key: 'dormant',
      title: '沉睡用户资产',
      titleEn: 'AUM of dormant customers',
      kind: 'METRIC',
      visualization: 'bar',
      query: lastMonthBy(['aum'], 'customer.tag.dormant_90d'),
    },
    {
      key: 'active_change',
      title: '活跃异动',
      titleEn: 'Active customers change',
      kind: 'CHANGE',
      visualization: 'table',
      query: change('active_customers', ['customer.channel', 'customer.risk_level', 'customer.age_band', 'customer.city_tier']),
    },
  ],
});

/** The seed's seven templates, in the order the cockpit shows them. */
export const wealthDashboards = [goalTracking, placementEfficiency, strategyTracking, basicFlow, channels, customerStructure, customerHealth];
