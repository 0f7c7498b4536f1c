import type { Kysely } from 'kysely';
import type { Catalog } from './catalog/types.ts';
import { indexCatalog, type CatalogIndex } from './catalog/catalog-index.ts';
import { compileMetricQuery, type CompiledMetricQuery } from './plan/compile-metric-query.ts';
import { executeMetricQuery, type MetricResult } from './plan/execute-metric-query.ts';
import { queryKey, type MetricQuery } from './query/metric-query.ts';

export interface SemanticLayer {
  readonly index: CatalogIndex;
  /** Compiles (or takes from the plan cache) the statement for a query. */
  plan(query: MetricQuery): CompiledMetricQuery;
  /** Compiles and runs a metric query. */
  query(db: Kysely<any>, query: MetricQuery): Promise<MetricResult>;
}

/**
 * The semantic layer over one catalog: metric queries compiled once per distinct query
 * (a bounded plan cache) and executed on the caller's database.
 *
 * ```ts
 * const layer = createSemanticLayer(wealthCatalog(), { maxRows: 100_000 });
 * const { rows } = await layer.query(db, { metrics: ['aum'], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }] });
 * ```
 */
export function createSemanticLayer(catalog: Catalog, options: { maxRows: number; planCacheSize?: number; rewrites?: boolean }): SemanticLayer {
  const index = indexCatalog(catalog);
  const capacity = options.planCacheSize ?? 1000;
  const cache = new Map<string, CompiledMetricQuery>();
  const plan = (query: MetricQuery): CompiledMetricQuery => {
    const key = queryKey(query);
    const cached = cache.get(key);
    if (cached) {
      cache.delete(key);
      cache.set(key, cached);
      return cached;
    }
    const compiled = compileMetricQuery(index, query, { maxRows: options.maxRows, ...(options.rewrites === false ? { rewrites: false } : {}) });
    if (cache.size >= capacity) cache.delete(cache.keys().next().value as string);
    cache.set(key, compiled);
    return compiled;
  };
  return { index, plan, query: async (db, query) => executeMetricQuery(db, plan(query)) };
}
