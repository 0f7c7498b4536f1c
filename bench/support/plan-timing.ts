import { createSemanticLayer } from '../../modeling/semantic-layer.ts';
import type { MetricQuery } from '../../modeling/query/metric-query.ts';
import { wealthCatalog } from '../../domains/wealth/catalog.ts';
import { median, quantile } from './stats.ts';

export interface PlanTiming {
  readonly samples: number;
  readonly medianMs: number;
  readonly p99Ms: number;
}

/**
 * In-process compile time of `layer.plan(query)` over `queries`: `cached` repeats each query
 * on a layer that has planned it before (the plan cache answers), `uncached` changes the
 * query every time (a different `limit`), so every call compiles. Both after a JIT warm-up.
 */
export function timePlans(queries: readonly MetricQuery[], rounds = { cached: 2_000, uncached: 300 }): { cached: PlanTiming; uncached: PlanTiming } {
  const layer = createSemanticLayer(wealthCatalog(), { maxRows: 100_000 });
  const measure = (work: (query: MetricQuery, i: number) => void, perQuery: number): PlanTiming => {
    for (let i = 0; i < 200; i++) for (const query of queries) work(query, -1 - i);
    const samples: number[] = [];
    for (let i = 0; i < perQuery; i++) {
      for (const query of queries) {
        const started = performance.now();
        work(query, i);
        samples.push(performance.now() - started);
      }
    }
    return { samples: samples.length, medianMs: median(samples), p99Ms: quantile(samples, 0.99) };
  };
  const cached = measure((query) => layer.plan(query), rounds.cached);
  const uncached = measure((query, i) => layer.plan({ ...query, limit: 1_000_000 + i }), rounds.uncached);
  return { cached, uncached };
}
