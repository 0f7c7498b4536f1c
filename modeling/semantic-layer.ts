import type { Kysely } from 'kysely';
import type { Catalog, Filter } from './catalog/types.ts';
import { indexCatalog, type CatalogIndex } from './catalog/catalog-index.ts';
import { clears, type Sensitivity } from './catalog/sensitivity.ts';
import { locateDimension } from './catalog/locate-dimension.ts';
import { compileMetricQuery, type CompiledMetricQuery } from './plan/compile-metric-query.ts';
import { executeMetricQuery, type MetricResult } from './plan/execute-metric-query.ts';
import { queryKey, type MetricQuery } from './query/metric-query.ts';
import { customGrainNames, parseDimensionRef } from './catalog/dimension-ref.ts';
import { withContributorCounts, type ContributorCatalog } from './privacy/contributor-catalog.ts';
import { countContributors, suppressSmallCells } from './privacy/small-cells.ts';
import { StrataError } from './errors.ts';
import type { FunnelQuery } from './query/funnel-query.ts';
import { compileFunnelQuery, executeFunnelQuery, type FunnelResult } from './plan/compile-funnel-query.ts';

/** What the caller may see: checked and applied by `query`. */
export interface QueryAccess {
  /** The most sensitive class the caller may group, filter or order by. */
  readonly clearance: Sensitivity;
  /** Row-level scope: rows of subjects outside it do not exist for the caller. */
  readonly scope?: Filter;
  /** Values counting fewer distinct subjects than this are suppressed (small-cell protection). */
  readonly minSubjects?: number;
}

export interface ProtectedResult extends MetricResult {
  /** Indexes of rows whose values were suppressed (null) because they count fewer than `minSubjects` subjects. */
  readonly suppressedRows: readonly number[];
}

export interface CountedResult extends MetricResult {
  /** Per row, metric -> distinct subjects behind its value (absent: not about subjects). */
  readonly counts: readonly Readonly<Record<string, number>>[];
}

export interface SemanticLayer {
  readonly index: CatalogIndex;
  /** Compiles (or takes from the plan cache) the statement for a query. */
  plan(query: MetricQuery): CompiledMetricQuery;
  /** Compiles and runs a metric query; with `access`, refuses members above the caller's clearance, adds their scope and suppresses small cells. */
  query(db: Kysely<any>, query: MetricQuery, access?: QueryAccess): Promise<ProtectedResult>;
  /**
   * Runs a metric query with the caller's clearance and scope, unsuppressed, with the number
   * of distinct subjects behind each metric value of each row (null: the metric is not about
   * subjects). For callers that suppress cells themselves, such as explanations, whose tables
   * need complementary suppression (`cellsToSuppress`); never returned to a client as is.
   */
  queryCounted(db: Kysely<any>, query: MetricQuery, access: QueryAccess): Promise<CountedResult>;
  /** Compiles and runs a funnel over the catalog's event stream, with the same access rules (steps under `minSubjects` hidden). */
  funnel(db: Kysely<any>, query: FunnelQuery, access?: QueryAccess): Promise<FunnelResult>;
}

export interface SemanticLayerOptions {
  readonly maxRows: number;
  readonly planCacheSize?: number;
  readonly rewrites?: boolean;
  /** The model whose rows are people (the customer): scopes are read from it and small cells count its distinct keys. */
  readonly subject?: string;
}

/**
 * The semantic layer over one catalog: metric queries compiled once per distinct query
 * (a bounded plan cache, keyed with the caller's scope) and executed on the caller's database.
 *
 * ```ts
 * const layer = createSemanticLayer(wealthCatalog(), { maxRows: 100_000, subject: 'customer' });
 * const { rows } = await layer.query(db, { metrics: ['aum'], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }] },
 *   { clearance: 'internal', minSubjects: 10 });
 * ```
 */
export function createSemanticLayer(catalog: Catalog, options: SemanticLayerOptions): SemanticLayer {
  const index = indexCatalog(catalog);
  const compile = { maxRows: options.maxRows, ...(options.rewrites === false ? { rewrites: false } : {}) };
  const plan = cachedPlanner(index, compile, options.planCacheSize);
  let counted: { contributors: ContributorCatalog; plan: (query: MetricQuery) => CompiledMetricQuery } | undefined;
  const countedPlanner = () => {
    if (!counted) {
      const contributors = withContributorCounts(catalog, options.subject ?? '');
      counted = { contributors, plan: cachedPlanner(indexCatalog(contributors.catalog), compile, options.planCacheSize) };
    }
    return counted;
  };
  return {
    index,
    plan,
    async queryCounted(db, input, access) {
      if (access.scope) checkScope(index, options.subject, access.scope);
      const query: MetricQuery = access.scope ? { ...input, scope: access.scope } : input;
      const compiled = plan(query);
      checkClearance(compiled, access.clearance);
      const { contributors, plan: planCounted } = countedPlanner();
      const countedQuery = countContributors(query, contributors, compiled.distinctModel);
      const result = await executeMetricQuery(db, countedQuery.counts.size === 0 ? compiled : planCounted(countedQuery.query));
      const extra = new Set([...countedQuery.counts.values()].filter((c) => !query.metrics.includes(c)));
      const rows = result.rows.map((row) => Object.fromEntries(Object.entries(row).filter(([name]) => !extra.has(name))));
      const counts = result.rows.map((row) => Object.fromEntries([...countedQuery.counts].map(([metric, column]) => [metric, Number(row[column] ?? 0)])));
      return { columns: compiled.columns, rows, sql: result.sql, plan: compiled.plan, counts };
    },
    async funnel(db, input, access) {
      if (access?.scope) checkScope(index, options.subject, access.scope);
      const compiled = compileFunnelQuery(index, access?.scope ? { ...input, scope: access.scope } : input, compile);
      if (access) checkClearance(compiled, access.clearance);
      return executeFunnelQuery(db, compiled, access?.minSubjects);
    },
    async query(db, input, access) {
      if (!access) return { ...(await executeMetricQuery(db, plan(input))), suppressedRows: [] };
      if (access.scope) checkScope(index, options.subject, access.scope);
      const query: MetricQuery = access.scope ? { ...input, scope: access.scope } : input;
      const compiled = plan(query);
      checkClearance(compiled, access.clearance);
      if (access.minSubjects === undefined) return { ...(await executeMetricQuery(db, compiled)), suppressedRows: [] };
      const { contributors, plan: planCounted } = countedPlanner();
      const countedQuery = countContributors(query, contributors, compiled.distinctModel);
      if (countedQuery.counts.size === 0) return { ...(await executeMetricQuery(db, compiled)), suppressedRows: [] };
      const result = await executeMetricQuery(db, planCounted(countedQuery.query));
      const { rows, suppressed } = suppressSmallCells(result.rows, countedQuery, access.minSubjects, query.metrics);
      return { columns: compiled.columns, rows, sql: result.sql, plan: compiled.plan, suppressedRows: suppressed };
    },
  };
}

function cachedPlanner(index: CatalogIndex, options: { maxRows: number; rewrites?: boolean }, capacity = 1000): (query: MetricQuery) => CompiledMetricQuery {
  const cache = new Map<string, CompiledMetricQuery>();
  return (query) => {
    const key = queryKey(query);
    const cached = cache.get(key);
    if (cached) {
      cache.delete(key);
      cache.set(key, cached);
      return cached;
    }
    const compiled = compileMetricQuery(index, query, options);
    if (cache.size >= capacity) cache.delete(cache.keys().next().value as string);
    cache.set(key, compiled);
    return compiled;
  };
}

/** Refuses a query that groups, filters or aggregates by a member above the caller's clearance. */
function checkClearance(
  compiled: { readonly members: CompiledMetricQuery['members'] } | { readonly query: { readonly members: CompiledMetricQuery['members'] } },
  clearance: Sensitivity,
): void {
  const members = 'members' in compiled ? compiled.members : compiled.query.members;
  const refused = members.find((m) => !clears(clearance, m.sensitivity));
  if (!refused) return;
  const what = refused.detail ? `'${refused.name}' ${refused.detail}` : `'${refused.name}'`;
  throw new StrataError(
    'FORBIDDEN',
    `${what} is ${refused.sensitivity} data: using it as a ${refused.use} needs ${refused.sensitivity} clearance (yours: ${clearance})`,
    { member: refused.name, sensitivity: refused.sensitivity },
  );
}

/** A scope that no longer resolves from the subject would silently widen access: refuse instead. */
function checkScope(index: CatalogIndex, subjectName: string | undefined, scope: Filter): void {
  const subject = subjectName ? index.models.get(subjectName) : undefined;
  const custom = customGrainNames(index.catalog);
  const unresolved = (filter: Filter): string | undefined => {
    if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.map(unresolved).find((x) => x !== undefined);
    if (filter.kind === 'not') return unresolved(filter.filter);
    if (filter.kind === 'metric') return filter.metric;
    const ref = parseDimensionRef(filter.dimension, custom);
    return subject && ref.kind !== 'metric_time' && locateDimension(index, subject, ref).ok ? undefined : filter.dimension;
  };
  const missing = unresolved(scope);
  if (missing !== undefined)
    throw new StrataError('FORBIDDEN', `your access scope names '${missing}', which the catalog no longer has; ask an admin for a new key`);
}
