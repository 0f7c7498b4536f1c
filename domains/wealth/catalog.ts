import { buildCatalog } from '../../modeling/catalog/build-catalog.ts';
import type { Catalog } from '../../modeling/catalog/types.ts';
import { wealthModels } from './models.ts';
import { wealthMetrics } from './metrics.ts';
import { wealthEventStream, wealthFunnels } from './funnels.ts';

/** The bundled wealth-management domain as a validated catalog. */
export function wealthCatalog(): Catalog {
  return buildCatalog({ models: wealthModels, metrics: wealthMetrics, eventStream: wealthEventStream, funnels: wealthFunnels });
}
