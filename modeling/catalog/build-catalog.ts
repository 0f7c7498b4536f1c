import type { Catalog, Metric, Model } from './types.ts';
import { ProblemCollector } from './validation-error.ts';
import { validateModels } from './validate-models.ts';
import { validateMetrics } from './validate-metrics.ts';
import { deepFreeze } from '../dsl/freeze.ts';

/**
 * Validates definitions and returns the immutable catalog, or throws a
 * `CatalogValidationError` listing every problem with its path.
 *
 * ```ts
 * const catalog = buildCatalog({ models: [customer, transaction], metrics: [purchaseAmount] });
 * ```
 */
export function buildCatalog(definitions: { models: readonly Model[]; metrics: readonly Metric[] }): Catalog {
  const problems = new ProblemCollector();
  const models = new Map(definitions.models.map((m) => [m.name, m]));
  validateModels(definitions.models, models, problems);
  validateMetrics(definitions.metrics, models, problems);
  problems.throwIfAny();
  return deepFreeze({ models: [...definitions.models], metrics: [...definitions.metrics] });
}
