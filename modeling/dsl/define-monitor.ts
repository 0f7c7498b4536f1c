import { deepFreeze } from '../catalog/freeze.ts';
import type { Filter } from '../catalog/types.ts';
import { toFilter, type FilterInput } from '../catalog/filter-input.ts';

/** How often a monitor evaluates: the last complete day, week (from Monday) or month of the data. */
export const MONITOR_SCHEDULES = ['DAILY', 'WEEKLY', 'MONTHLY'] as const;
export type MonitorSchedule = (typeof MONITOR_SCHEDULES)[number];

/**
 * When a monitor fires: outside fixed bounds, or away from a seasonal baseline (the mean of
 * the same period in the last `periods` cycles: the same weekday over the last N weeks for a
 * daily monitor, the last N weeks or months otherwise) by more than `tolerance` of it.
 */
export type MonitorCondition =
  | { readonly kind: 'THRESHOLD'; readonly below?: number; readonly above?: number }
  | { readonly kind: 'SEASONAL'; readonly periods: number; readonly tolerance: number };

export interface Monitor {
  readonly key: string;
  readonly title: string;
  readonly description?: string;
  readonly metric: string;
  /** Only rows matching this (a slice of the metric), in the one condition language. */
  readonly slice?: Filter;
  readonly schedule: MonitorSchedule;
  readonly condition: MonitorCondition;
  /** Dimensions the explanation attached to a firing decomposes the change by (none: no explanation). */
  readonly explainBy: readonly string[];
  /** An http(s) URL each firing is posted to (retried with backoff). */
  readonly webhook?: string;
}

const KEY = /^[a-z][a-z0-9_]{1,62}$/;

/** What is wrong with a monitor's shape; its metric and dimensions are checked against the catalog elsewhere. */
export function monitorShapeProblems(monitor: Monitor): string[] {
  const problems: string[] = [];
  if (!KEY.test(monitor.key)) problems.push(`key '${monitor.key}' must be snake_case, 2-63 characters`);
  if (!monitor.title?.trim() || monitor.title.length > 200) problems.push('title must be 1-200 characters');
  if (!MONITOR_SCHEDULES.includes(monitor.schedule)) problems.push(`schedule must be one of ${MONITOR_SCHEDULES.join(', ')}`);
  const c = monitor.condition;
  if (c.kind === 'THRESHOLD') {
    const bounds = [c.below, c.above].filter((b) => b !== undefined);
    if (bounds.length === 0 || bounds.some((b) => !Number.isFinite(b))) problems.push('a threshold needs a finite `below` or `above`');
    if (c.below !== undefined && c.above !== undefined && c.below > c.above) problems.push('`below` must not exceed `above`');
  } else if (c.kind === 'SEASONAL') {
    if (!Number.isInteger(c.periods) || c.periods < 1 || c.periods > 12) problems.push('a seasonal baseline averages 1 to 12 periods');
    if (!Number.isFinite(c.tolerance) || c.tolerance <= 0 || c.tolerance > 10)
      problems.push('tolerance must be above 0 and at most 10 (a share of the baseline)');
  } else problems.push('condition must be THRESHOLD or SEASONAL');
  if (monitor.explainBy.length > 10) problems.push('explain by at most 10 dimensions');
  if (monitor.webhook !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(monitor.webhook);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password)
      problems.push('webhook must be an http(s) URL without credentials');
  }
  return problems;
}

export interface MonitorSpec extends Omit<Monitor, 'slice' | 'explainBy'> {
  readonly slice?: FilterInput;
  readonly explainBy?: readonly string[];
}

/**
 * Defines a monitor as frozen data beside the metrics, refusing a malformed one at once.
 *
 * ```ts
 * defineMonitor({ key: 'daily_purchases', title: 'Daily purchases', metric: 'purchase_amount', schedule: 'DAILY',
 *   condition: { kind: 'SEASONAL', periods: 4, tolerance: 0.5 }, explainBy: ['customer.channel'] });
 * ```
 */
export function defineMonitor(spec: MonitorSpec): Monitor {
  const { slice, explainBy, ...rest } = spec;
  const monitor: Monitor = {
    ...rest,
    ...(slice ? { slice: toFilter(slice, `monitors.${spec.key}.slice`) } : {}),
    explainBy: [...(explainBy ?? [])],
  };
  const problems = monitorShapeProblems(monitor);
  if (problems.length > 0) throw new Error(`monitor '${spec.key}': ${problems.join('; ')}`);
  return deepFreeze(monitor);
}
