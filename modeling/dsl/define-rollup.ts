import type { Rollup, RollupGrain } from '../catalog/types.ts';
import { deepFreeze } from '../catalog/freeze.ts';

export interface RollupSpec {
  readonly name: string;
  readonly description: string;
  /** Metrics whose values are stored (ratios and derived metrics through their inputs). */
  readonly metrics?: readonly string[];
  /** Or a funnel of the catalog: its step counts and medians per period of entries and group (time grain = partition grain). */
  readonly funnel?: string;
  /** Dimensions every stored row is grouped by (`customer.channel`). */
  readonly dimensions?: readonly string[];
  /** One rollup per entry, each grouped by `dimensions` plus that entry; `customer.tag.*` is one per published boolean or enum tag. */
  readonly eachOf?: readonly string[];
  readonly timeGrain: RollupGrain;
  /** The time partitions the table is split into and refreshed by (defaults to MONTH, or the time grain when coarser). */
  readonly partitionGrain?: RollupGrain;
  /** How often the refresh worker looks for stale partitions (default 60 s), and what a read of a stale partition does (default `raw`). */
  readonly refresh?: { readonly everySeconds?: number; readonly whenStale?: 'raw' | 'serve' };
}

/**
 * A rollup declared with the definitions: the compiler answers a query from it when it
 * covers the query (see `modeling/plan/match-rollup.ts`), from raw tables otherwise.
 *
 * ```ts
 * defineRollup({ name: 'purchases_monthly', metrics: ['purchase_amount'], eachOf: ['customer.channel'], timeGrain: 'MONTH' });
 * defineRollup({ name: 'purchase_flow_monthly', funnel: 'purchase_flow', eachOf: ['customer.channel'], timeGrain: 'MONTH' });
 * ```
 */
export function defineRollup(spec: RollupSpec): Rollup {
  const partitionGrain =
    spec.partitionGrain ??
    (spec.funnel ? spec.timeGrain : undefined) ??
    (['QUARTER', 'YEAR'].includes(spec.timeGrain) ? spec.timeGrain : spec.timeGrain === 'WEEK' ? 'WEEK' : 'MONTH');
  return deepFreeze({
    name: spec.name,
    description: spec.description,
    metrics: [...(spec.metrics ?? [])],
    ...(spec.funnel ? { funnel: spec.funnel } : {}),
    dimensions: [...(spec.dimensions ?? [])],
    ...(spec.eachOf ? { eachOf: [...spec.eachOf] } : {}),
    timeGrain: spec.timeGrain,
    partitionGrain,
    refresh: { everySeconds: spec.refresh?.everySeconds ?? 60, whenStale: spec.refresh?.whenStale ?? 'raw' },
  });
}
