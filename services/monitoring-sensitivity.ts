import type { Sensitivity } from '../modeling/catalog/sensitivity.ts';

/**
 * The sensitivity class of every member the monitoring operations expose (funnels,
 * explained metric changes, dashboards, monitors), by GraphQL type and field. All are
 * `internal`: definitions are the bank's operating material, and every number is an
 * aggregate over customers read through the semantic layer with the caller's clearance,
 * scope and small-cell threshold (cells under k are null for callers without personal
 * clearance). test/monitoring-sensitivity.test.ts checks that every field has a class.
 */
const internal = <K extends string>(...fields: K[]): Record<K, Sensitivity> => Object.fromEntries(fields.map((f) => [f, 'internal'])) as Record<K, Sensitivity>;

export const MONITORING_MEMBER_SENSITIVITY: Readonly<Record<string, Readonly<Record<string, Sensitivity>>>> = {
  FunnelDefinition: internal('key', 'title', 'description', 'owner', 'status', 'steps', 'windowHours'),
  FunnelStepDefinition: internal('event', 'label', 'where'),
  FunnelResult: internal('funnel', 'windowHours', 'timeRange', 'groups', 'freshness'),
  FunnelTimeRange: internal('from', 'to'),
  Freshness: internal('source', 'rollup', 'asOf', 'stale'),
  FunnelGroup: internal('dimensions', 'steps'),
  FunnelStepResult: internal(
    'index',
    'event',
    'label',
    'customers',
    'conversionFromPrevious',
    'conversionFromFirst',
    'medianSecondsFromPrevious',
    'suppressed',
  ),
  MetricChangeExplanation: internal(
    'metric',
    'method',
    'baseRange',
    'currentRange',
    'base',
    'current',
    'change',
    'dimensions',
    'contributions',
    'explanations',
    'mixRate',
  ),
  ChangeRange: internal('from', 'to'),
  ChangeDimension: internal('dimension', 'surprise', 'additive', 'suppressedValues'),
  ChangeContribution: internal('dimension', 'value', 'base', 'current', 'change', 'share', 'suppressed'),
  ChangeExplanation: internal('members', 'explanatoryPower', 'surprise'),
  ChangeMember: internal('dimension', 'value'),
  MixRateEffect: internal('dimension', 'value', 'mixEffect', 'rateEffect', 'suppressed'),
  Dashboard: internal('key', 'title', 'titleEn', 'description', 'descriptionZh', 'tiles', 'source', 'status', 'version', 'updatedBy'),
  DashboardTile: internal('key', 'title', 'titleEn', 'kind', 'visualization', 'query', 'description', 'descriptionZh'),
  DashboardHistoryEntry: internal('version', 'status', 'actor', 'action', 'at', 'diff', 'reason'),
  Monitor: internal(
    'key',
    'title',
    'description',
    'metric',
    'slice',
    'schedule',
    'condition',
    'explainBy',
    'webhookHost',
    'source',
    'status',
    'version',
    'updatedBy',
    'evaluations',
    'firings',
  ),
  MonitorEvaluation: internal('at', 'period', 'value', 'expected', 'fired', 'reason', 'explanation', 'delivery'),
  MonitorPeriod: internal('from', 'to'),
  MonitorDelivery: internal('status', 'attempts', 'lastError'),
  MonitorHistoryEntry: internal('version', 'status', 'actor', 'action', 'at', 'diff', 'reason'),
  MonitorRun: internal('ran', 'evaluated', 'fired', 'delivered'),
};

/** The root fields whose results are classified here. */
export const MONITORING_ROOT_FIELDS = {
  query: ['funnels', 'funnel', 'explainMetricChange', 'dashboards', 'dashboard', 'dashboardHistory', 'monitors', 'monitorHistory'],
  mutation: [
    'saveDashboard',
    'submitDashboard',
    'approveDashboard',
    'rejectDashboard',
    'saveMonitor',
    'submitMonitor',
    'approveMonitor',
    'rejectMonitor',
    'runMonitors',
  ],
};
