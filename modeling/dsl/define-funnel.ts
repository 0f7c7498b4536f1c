import type { Funnel, Status } from '../catalog/types.ts';
import { toFilter, type FilterInput } from '../catalog/filter-input.ts';
import { deepFreeze } from '../catalog/freeze.ts';

export interface FunnelSpec {
  readonly name: string;
  readonly label?: string;
  readonly description: string;
  readonly owner: string;
  readonly status?: Status;
  /** Ordered steps: an event name, or an event with a filter on its dimensions or properties (`property.<name>`). */
  readonly steps: readonly (string | { readonly event: string; readonly filter?: FilterInput; readonly label?: string })[];
  /** Every later step must occur at most this many hours after the entry (step 1). */
  readonly windowHours: number;
}

/**
 * Defines a funnel as frozen catalog data beside the metrics; `buildCatalog` checks it
 * against the catalog's event stream.
 *
 * ```ts
 * const flow = defineFunnel({
 *   name: 'purchase_flow', description: 'From opening the app to a confirmed purchase', owner: 'growth-analytics',
 *   steps: ['app_open', 'product_view', 'purchase_submit', 'purchase_success'], windowHours: 168,
 * });
 * ```
 */
export function defineFunnel(spec: FunnelSpec): Funnel {
  return deepFreeze({
    name: spec.name,
    ...(spec.label ? { label: spec.label } : {}),
    description: spec.description,
    owner: spec.owner,
    status: spec.status ?? 'PUBLISHED',
    windowHours: spec.windowHours,
    steps: spec.steps.map((step, i) =>
      typeof step === 'string'
        ? { event: step }
        : {
            event: step.event,
            ...(step.label ? { label: step.label } : {}),
            ...(step.filter ? { filter: toFilter(step.filter, `funnels.${spec.name}.steps[${i}].filter`) } : {}),
          },
    ),
  });
}
