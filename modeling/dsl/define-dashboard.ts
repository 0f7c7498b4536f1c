import { deepFreeze } from '../catalog/freeze.ts';
import { GRAINS, type Grain } from '../catalog/types.ts';
import { periodStart } from '../sql/time.ts';

/** What answers a tile: `metrics(query:)`, `funnel(input:)`, `explainMetricChange(input:)` or `goals` / `goal(key:)`. */
export const DASHBOARD_TILE_KINDS = ['METRIC', 'FUNNEL', 'CHANGE', 'GOAL'] as const;
export type DashboardTileKind = (typeof DASHBOARD_TILE_KINDS)[number];

export const VISUALIZATIONS = ['number', 'line', 'bar', 'stacked_bar', 'pie', 'table', 'funnel', 'progress'] as const;
export type Visualization = (typeof VISUALIZATIONS)[number];

/** A JSON value as a tile's query holds it. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

/**
 * A time range relative to the data: the `periods` complete periods of `grain` ending
 * `offset` periods before the end of the last complete one (offset 0: up to it).
 */
export interface RelativeRange {
  readonly grain: Grain;
  readonly periods: number;
  readonly offset?: number;
}

export interface DashboardTile {
  readonly key: string;
  /** Chinese-first title. */
  readonly title: string;
  readonly titleEn: string;
  readonly kind: DashboardTileKind;
  readonly visualization: Visualization;
  /**
   * The input of the operation answering the tile, as a client sends it; a `timeRange`,
   * `base` or `current` may be `{ relative: RelativeRange }`, resolved to dates when served.
   */
  readonly query: JsonObject;
  readonly description?: string;
  /** The description in Chinese (zh-CN), shown by the Chinese console. */
  readonly descriptionZh?: string;
}

/** A dashboard defined as code beside the metrics (or by a steward under review). */
export interface Dashboard {
  readonly key: string;
  readonly title: string;
  readonly titleEn: string;
  readonly description: string;
  /** The description in Chinese (zh-CN), shown by the Chinese console (the English one otherwise). */
  readonly descriptionZh?: string;
  readonly tiles: readonly DashboardTile[];
}

const KEY = /^[a-z][a-z0-9_]{1,62}$/;
/** Keys of a tile query that hold time ranges. */
const RANGE_KEYS = ['timeRange', 'base', 'current'] as const;

/** What is wrong with a dashboard's shape (names, kinds, visualizations, relative ranges); its queries are checked against the catalog elsewhere. */
export function dashboardShapeProblems(dashboard: Dashboard): string[] {
  const problems: string[] = [];
  if (!KEY.test(dashboard.key)) problems.push(`key '${dashboard.key}' must be snake_case, 2-63 characters`);
  for (const [field, text] of [
    ['title', dashboard.title],
    ['titleEn', dashboard.titleEn],
  ] as const)
    if (typeof text !== 'string' || text.trim() === '' || text.length > 200) problems.push(`${field} must be 1-200 characters`);
  if (dashboard.tiles.length === 0 || dashboard.tiles.length > 40) problems.push('a dashboard has 1 to 40 tiles');
  const keys = new Set<string>();
  for (const tile of dashboard.tiles) {
    const at = `tile '${tile.key}'`;
    if (!KEY.test(tile.key)) problems.push(`${at}: key must be snake_case`);
    if (keys.has(tile.key)) problems.push(`${at} appears twice`);
    keys.add(tile.key);
    if (!DASHBOARD_TILE_KINDS.includes(tile.kind)) problems.push(`${at}: kind must be one of ${DASHBOARD_TILE_KINDS.join(', ')}`);
    if (!VISUALIZATIONS.includes(tile.visualization)) problems.push(`${at}: visualization must be one of ${VISUALIZATIONS.join(', ')}`);
    if (typeof tile.title !== 'string' || tile.title.trim() === '' || typeof tile.titleEn !== 'string' || tile.titleEn.trim() === '')
      problems.push(`${at}: title and titleEn are required`);
    if (!tile.query || typeof tile.query !== 'object' || Array.isArray(tile.query)) problems.push(`${at}: query must be an object`);
    else
      for (const name of RANGE_KEYS) {
        const range = tile.query[name];
        if (range && typeof range === 'object' && !Array.isArray(range) && 'relative' in range) {
          const problem = relativeProblem(range.relative);
          if (problem) problems.push(`${at}: ${name}.relative ${problem}`);
        }
      }
  }
  return problems;
}

function relativeProblem(value: JsonValue | undefined): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'must be { grain, periods, offset? }';
  const { grain, periods, offset } = value as Record<string, JsonValue>;
  if (typeof grain !== 'string' || !['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'].includes(grain)) return 'grain must be DAY, WEEK, MONTH, QUARTER or YEAR';
  if (typeof periods !== 'number' || !Number.isInteger(periods) || periods < 1 || periods > 366) return 'periods must be a whole number from 1 to 366';
  if (offset !== undefined && (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > 366))
    return 'offset must be a whole number from 0 to 366';
  return undefined;
}

/**
 * Defines a dashboard as frozen data, refusing a malformed one at once.
 *
 * ```ts
 * defineDashboard({ key: 'channels', title: '渠道分析', titleEn: 'Channels', description: '...', tiles: [
 *   { key: 'new', title: '新客', titleEn: 'New customers', kind: 'METRIC', visualization: 'bar',
 *     query: { metrics: ['new_customers'], groupBy: [{ dimension: 'customer.channel' }], timeRange: { relative: { grain: 'MONTH', periods: 1 } } } },
 * ] });
 * ```
 */
export function defineDashboard(dashboard: Dashboard): Dashboard {
  const problems = dashboardShapeProblems(dashboard);
  if (problems.length > 0) throw new Error(`dashboard '${dashboard.key}': ${problems.join('; ')}`);
  return deepFreeze(structuredClone(dashboard) as Dashboard);
}

/** `YYYY-MM-DD` plus days. */
function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The start of the period `count` periods of `grain` before the one starting at `start`. */
function periodsBefore(start: string, grain: Grain, count: number): string {
  let at = start;
  for (let i = 0; i < count; i++) at = grain === 'DAY' ? addDays(at, -1) : periodStart(addDays(at, -1), grain);
  return at;
}

/** A relative range as absolute `[from, to)` dates, given the last complete day of the data. */
export function resolveRelativeRange(range: RelativeRange, lastCompleteDay: string): { from: string; to: string } {
  if (!GRAINS.includes(range.grain)) throw new Error(`unknown grain ${range.grain}`);
  const end = range.grain === 'DAY' ? addDays(lastCompleteDay, 1) : periodStart(addDays(lastCompleteDay, 1), range.grain);
  const to = periodsBefore(end, range.grain, range.offset ?? 0);
  return { from: periodsBefore(to, range.grain, range.periods), to };
}

/**
 * A tile query with every relative range resolved to dates. With `override` (a
 * `dashboard(key, timeRange)` argument), `timeRange` and `current` become it and `base` the
 * range of the same number of days just before it.
 */
export function resolveTileQuery(query: JsonObject, lastCompleteDay: string, override?: { from: string; to: string }): JsonObject {
  const out: Record<string, JsonValue> = { ...query };
  for (const name of RANGE_KEYS) {
    const range = query[name];
    if (!range || typeof range !== 'object' || Array.isArray(range)) continue;
    if (override) {
      if (name === 'base') {
        const days = Math.round((Date.parse(override.to) - Date.parse(override.from)) / 86_400_000);
        out[name] = { from: addDays(override.from, -days), to: override.from };
      } else out[name] = { ...override };
      continue;
    }
    if ('relative' in range) out[name] = resolveRelativeRange(range.relative as unknown as RelativeRange, lastCompleteDay);
  }
  return out;
}

/** The last complete day: the data's last day, unless that is today (still filling), then yesterday. */
export function lastCompleteDay(latestDataDay: string, today: string): string {
  return latestDataDay < today ? latestDataDay : addDays(today, -1);
}
