import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { definitionHistory, getDefinition, listDefinitions, type HistoryEntry, type StoredDefinition } from '../store/definition-store.ts';
import { reviewedDefinitions, type ReviewContext, type ReviewedBody } from '../store/reviewed-definitions.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkDefinitionText } from '../modeling/catalog/definition-text.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';
import type { SemanticLayer } from '../modeling/semantic-layer.ts';
import {
  dashboardShapeProblems,
  lastCompleteDay,
  resolveTileQuery,
  type Dashboard,
  type DashboardTile,
  type JsonObject,
  type JsonValue,
} from '../modeling/dsl/define-dashboard.ts';
import { eventStreamLatestDaySql } from '../modeling/sql/data-end-sql.ts';
import { toFilter, type FilterInput } from '../modeling/catalog/filter-input.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import { resolveFunnelQuery, type FunnelQuery } from '../modeling/query/funnel-query.ts';
import { funnelPropertyTypes } from './funnels.ts';
import { explainInputOfJson, resolveExplainInput } from './metric-change.ts';

/** Where a dashboard comes from: code beside the metrics, or a steward's definition under review. */
export type DashboardSource = 'CODE' | 'STEWARD';

export interface DashboardView {
  readonly dashboard: Dashboard;
  readonly source: DashboardSource;
  readonly status: string;
  readonly version: number;
  readonly updatedBy: string | null;
}

/** A steward dashboard as stored: the current spec (a draft while under work) and the version served. */
type DashboardBody = ReviewedBody<Dashboard>;

const KIND = 'dashboard';

function codeView(dashboard: Dashboard): DashboardView {
  return { dashboard, source: 'CODE', status: 'PUBLISHED', version: 1, updatedBy: null };
}

function storedView(stored: StoredDefinition<DashboardBody>, servedOnly: boolean): DashboardView | undefined {
  if (servedOnly) {
    if (!stored.body.published || stored.status === 'RETIRED') return undefined;
    return {
      dashboard: stored.body.published.spec,
      source: 'STEWARD',
      status: 'PUBLISHED',
      version: stored.body.published.version,
      updatedBy: stored.updatedBy,
    };
  }
  return { dashboard: stored.body.spec, source: 'STEWARD', status: stored.status, version: stored.version, updatedBy: stored.updatedBy };
}

/** The domain's dashboards, then the stewards' (published versions; with `includeDrafts`, each one's current version). */
export async function listDashboards(db: Kysely<DatabaseSchema>, domain: Domain, options: { includeDrafts?: boolean } = {}): Promise<DashboardView[]> {
  const stored = await listDefinitions<DashboardBody>(db, KIND);
  return [
    ...(domain.dashboards ?? []).map(codeView),
    ...stored.map((s) => storedView(s, options.includeDrafts !== true)).filter((v): v is DashboardView => v !== undefined),
  ];
}

/** One served dashboard by key (a code-defined one, or a steward's published version). */
export async function findDashboard(db: Kysely<DatabaseSchema>, domain: Domain, key: string): Promise<DashboardView | undefined> {
  const code = domain.dashboards?.find((d) => d.key === key);
  if (code) return codeView(code);
  const stored = await getDefinition<DashboardBody>(db, KIND, key);
  return stored ? storedView(stored, true) : undefined;
}

/** The data's last complete day in the reporting zone: its last day with events, or yesterday while today's are arriving. */
export async function dataLastCompleteDay(db: Kysely<any>, semantic: SemanticLayer, now: Date): Promise<string> {
  const { rows } = await eventStreamLatestDaySql(semantic.index, now).execute(db);
  const stream = semantic.index.catalog.eventStream;
  const zone = stream ? semantic.index.model(stream.model).timeZone : 'UTC';
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  return lastCompleteDay(rows[0]?.latest ?? today, today);
}

/** A dashboard with every tile's relative ranges resolved to dates (and an optional override of its period). */
export function servedDashboard(dashboard: Dashboard, lastDay: string, override?: { from: string; to: string }): Dashboard {
  return { ...dashboard, tiles: dashboard.tiles.map((tile) => ({ ...tile, query: resolveTileQuery(tile.query, lastDay, override) })) };
}

// ---- tile queries: the JSON a client sends, as the semantic layer's queries ----

function objectOf(value: JsonValue | undefined, what: string): JsonObject {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new StrataError('BAD_USER_INPUT', `${what} must be an object`);
  return value as JsonObject;
}

function stringsOf(value: JsonValue | undefined, what: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new StrataError('BAD_USER_INPUT', `${what} must be a list of strings`);
  return value as string[];
}

function rangeOf(value: JsonValue | undefined, what: string): { from: string; to: string } {
  const range = objectOf(value, what);
  if (typeof range.from !== 'string' || typeof range.to !== 'string') throw new StrataError('BAD_USER_INPUT', `${what} needs \`from\` and \`to\``);
  return { from: range.from, to: range.to };
}

function onlyKeys(query: JsonObject, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(query).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw new StrataError('BAD_USER_INPUT', `${what}: unknown field(s) ${unknown.map(quoteInput).join(', ')} (allowed: ${allowed.join(', ')})`);
}

function groupByOf(value: JsonValue | undefined): MetricQuery['groupBy'] {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new StrataError('BAD_USER_INPUT', 'groupBy must be a list');
  return value.map((g, i) => {
    const item = objectOf(g, `groupBy[${i}]`);
    if (typeof item.dimension !== 'string') throw new StrataError('BAD_USER_INPUT', `groupBy[${i}].dimension must be a string`);
    return {
      dimension: item.dimension,
      ...(typeof item.grain === 'string' ? { grain: item.grain as never } : {}),
      ...(typeof item.datePart === 'string' ? { datePart: item.datePart as never } : {}),
    };
  });
}

/** A METRIC tile's query (`MetricQueryInput` as JSON) as a metric query. */
export function metricQueryOfJson(query: JsonObject): MetricQuery {
  onlyKeys(query, ['metrics', 'groupBy', 'where', 'timeRange', 'orderBy', 'limit', 'offset', 'savedQuery'], 'metric query');
  const orderBy = query.orderBy === undefined ? undefined : (query.orderBy as JsonValue[]).map((o, i) => objectOf(o, `orderBy[${i}]`));
  const groupBy = groupByOf(query.groupBy);
  return {
    metrics: query.metrics === undefined ? [] : stringsOf(query.metrics, 'metrics'),
    ...(groupBy ? { groupBy } : {}),
    ...(query.where ? { where: toFilter(query.where as unknown as FilterInput) } : {}),
    ...(query.timeRange ? { timeRange: rangeOf(query.timeRange, 'timeRange') } : {}),
    ...(orderBy ? { orderBy: orderBy.map((o) => ({ field: String(o.field), direction: o.direction === 'DESC' ? ('DESC' as const) : ('ASC' as const) })) } : {}),
    ...(typeof query.limit === 'number' ? { limit: query.limit } : {}),
    ...(typeof query.offset === 'number' ? { offset: query.offset } : {}),
    ...(typeof query.savedQuery === 'string' ? { savedQuery: query.savedQuery } : {}),
  };
}

/** A FUNNEL tile's query (`FunnelInput` as JSON) as a funnel query. */
export function funnelQueryOfJson(query: JsonObject): FunnelQuery {
  onlyKeys(query, ['funnel', 'steps', 'windowHours', 'timeRange', 'groupBy', 'where'], 'funnel query');
  const groupBy = groupByOf(query.groupBy);
  const steps =
    query.steps === undefined
      ? undefined
      : (query.steps as JsonValue[]).map((s, i) => {
          const step = objectOf(s, `steps[${i}]`);
          if (typeof step.event !== 'string') throw new StrataError('BAD_USER_INPUT', `steps[${i}].event must be a string`);
          return { event: step.event, ...(step.where ? { filter: toFilter(step.where as unknown as FilterInput, `steps[${i}].where`) } : {}) };
        });
  return {
    ...(typeof query.funnel === 'string' ? { funnel: query.funnel } : {}),
    ...(steps ? { steps } : {}),
    ...(typeof query.windowHours === 'number' ? { windowHours: query.windowHours } : {}),
    timeRange: rangeOf(query.timeRange, 'timeRange'),
    ...(groupBy ? { groupBy } : {}),
    ...(query.where ? { where: toFilter(query.where as unknown as FilterInput) } : {}),
  };
}

/**
 * Checks a dashboard against the catalog: its shape, and every tile's query compiled (or
 * resolved) as the operation answering it would, with relative ranges resolved. Throws a
 * coded error naming the tile.
 */
export function checkDashboard(semantic: SemanticLayer, domain: Domain, dashboard: Dashboard): void {
  const shape = dashboardShapeProblems(dashboard);
  if (shape.length > 0) throw new StrataError('BAD_USER_INPUT', `dashboard ${quoteInput(dashboard.key)}: ${shape.join('; ')}`);
  for (const tile of dashboard.tiles) {
    try {
      checkTile(semantic, domain, tile);
    } catch (error) {
      if (error instanceof StrataError) throw new StrataError(error.code, `tile ${quoteInput(tile.key)}: ${error.message}`, error.details);
      throw error;
    }
  }
}

function checkTile(semantic: SemanticLayer, domain: Domain, tile: DashboardTile): void {
  const query = resolveTileQuery(tile.query, '2026-01-31');
  switch (tile.kind) {
    case 'METRIC':
      semantic.plan(metricQueryOfJson(query));
      return;
    case 'FUNNEL':
      resolveFunnelQuery(semantic.index, { ...funnelQueryOfJson(query), propertyTypes: funnelPropertyTypes(domain, { clearance: 'internal' }) });
      return;
    case 'CHANGE':
      resolveExplainInput(semantic, explainInputOfJson(query));
      return;
    case 'GOAL':
      onlyKeys(query, ['goal'], 'goal query');
      if (query.goal !== undefined && typeof query.goal !== 'string') throw new StrataError('BAD_USER_INPUT', '`goal` must be a goal key');
      return;
  }
}

// ---- stewards' dashboards under review: the definition store's draft, review and history ----

export interface DashboardCurationContext {
  readonly db: Kysely<DatabaseSchema>;
  readonly actor: string;
  readonly semantic: SemanticLayer;
  readonly domain: Domain;
}

const review = reviewedDefinitions<Dashboard>(KIND, 'dashboard');

function reviewContext(context: DashboardCurationContext): ReviewContext<Dashboard> {
  return { db: context.db, actor: context.actor, check: (spec) => checkDashboard(context.semantic, context.domain, spec) };
}

/** Creates (no `expectedVersion`) or changes a steward dashboard as a DRAFT; its published version keeps serving until the new one is approved. */
export async function saveDashboardDraft(context: DashboardCurationContext, spec: Dashboard, expectedVersion: number | null): Promise<DashboardView> {
  if (context.domain.dashboards?.some((d) => d.key === spec.key))
    throw new StrataError('CONFLICT', `dashboard ${quoteInput(spec.key)} is defined as code; choose another key`);
  if (spec.description) checkDefinitionText('description', spec.description);
  if (spec.descriptionZh) checkDefinitionText('description', spec.descriptionZh, 'descriptionZh');
  for (const tile of spec.tiles) {
    if (tile.description) checkDefinitionText('description', tile.description, `tiles.${tile.key}.description`);
    if (tile.descriptionZh) checkDefinitionText('description', tile.descriptionZh, `tiles.${tile.key}.descriptionZh`);
  }
  return storedView(await review.save(reviewContext(context), spec.key, spec, expectedVersion), false) as DashboardView;
}

/** DRAFT -> IN_REVIEW. */
export async function submitDashboard(context: DashboardCurationContext, key: string, expectedVersion: number): Promise<DashboardView> {
  return storedView(await review.submit(reviewContext(context), key, expectedVersion), false) as DashboardView;
}

/** IN_REVIEW -> PUBLISHED by someone who authored none of the version (four eyes), its tiles checked again against today's catalog. */
export async function approveDashboard(context: DashboardCurationContext, key: string, expectedVersion: number): Promise<DashboardView> {
  return storedView(await review.approve(reviewContext(context), key, expectedVersion), false) as DashboardView;
}

/** IN_REVIEW -> DRAFT with the reviewer's reason. */
export async function rejectDashboard(context: DashboardCurationContext, key: string, expectedVersion: number, reason: string): Promise<DashboardView> {
  return storedView(await review.reject(reviewContext(context), key, expectedVersion, reason), false) as DashboardView;
}

export const dashboardHistory = (db: Kysely<DatabaseSchema>, key: string): Promise<HistoryEntry[]> => definitionHistory(db, KIND, key);
