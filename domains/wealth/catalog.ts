import { buildCatalog } from '../../modeling/catalog/build-catalog.ts';
import type { Catalog } from '../../modeling/catalog/types.ts';
import { wealthModels } from './models.ts';
import { wealthMetrics } from './metrics.ts';
import { wealthRollups } from './rollups.ts';
import { wealthEventStream, wealthFunnels } from './funnels.ts';

/** The bundled wealth-management domain as a validated catalog, with its rollups. */
export function wealthCatalog(): Catalog {
  return buildCatalog({ models: wealthModels, metrics: wealthMetrics, rollups: wealthRollups, eventStream: wealthEventStream, funnels: wealthFunnels });
}
