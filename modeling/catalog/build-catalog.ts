import type { Catalog, EventStream, Funnel, Metric, Model, SavedQuery, TimeSpine } from './types.ts';
import { ProblemCollector } from './validation-error.ts';
import { validateModels } from './validate-models.ts';
import { validateMetrics } from './validate-metrics.ts';
import { deepFreeze } from './freeze.ts';
import { validateFunnels } from './validate-funnels.ts';

/**
 * Validates definitions and returns the immutable catalog, or throws a
 * `CatalogValidationError` listing every problem with its path.
 *
 * ```ts
 * const catalog = buildCatalog({ models: [customer, transaction], metrics: [purchaseAmount] });
 * ```
 */
export function buildCatalog(definitions: {
  models: readonly Model[];
  metrics: readonly Metric[];
  timeSpines?: readonly TimeSpine[];
  savedQueries?: readonly SavedQuery[];
  eventStream?: EventStream;
  funnels?: readonly Funnel[];
}): Catalog {
  const problems = new ProblemCollector();
  const models = new Map(definitions.models.map((m) => [m.name, m]));
  const catalog: Catalog = {
    models: [...definitions.models],
    metrics: [...definitions.metrics],
    ...(definitions.timeSpines?.length ? { timeSpines: [...definitions.timeSpines] } : {}),
    ...(definitions.savedQueries?.length ? { savedQueries: [...definitions.savedQueries] } : {}),
    ...(definitions.eventStream ? { eventStream: definitions.eventStream } : {}),
    ...(definitions.funnels?.length ? { funnels: [...definitions.funnels] } : {}),
  };
  validateModels(definitions.models, models, problems);
  validateMetrics(catalog, models, problems);
  validateSavedQueries(catalog, problems);
  if (problems.problems.length === 0) validateFunnels(catalog, problems);
  problems.throwIfAny();
  return deepFreeze(catalog);
}

/**
 * One catalog serving two sets of definitions (the bundled domain and an imported dbt
 * project): names must not collide, and the result is validated like any other.
 *
 * ```ts
 * const catalog = mergeCatalogs(wealthCatalog(), importDbtProject(dir, { schema }).catalog);
 * ```
 */
export function mergeCatalogs(a: Catalog, b: Catalog): Catalog {
  return buildCatalog({
    models: [...a.models, ...b.models],
    metrics: [...a.metrics, ...b.metrics],
    timeSpines: [...(a.timeSpines ?? []), ...(b.timeSpines ?? [])],
    savedQueries: [...(a.savedQueries ?? []), ...(b.savedQueries ?? [])],
    ...((a.eventStream ?? b.eventStream) ? { eventStream: (a.eventStream ?? b.eventStream) as EventStream } : {}),
    funnels: [...(a.funnels ?? []), ...(b.funnels ?? [])],
  });
}

function validateSavedQueries(catalog: Catalog, problems: ProblemCollector): void {
  const metrics = new Set(catalog.metrics.map((m) => m.name));
  const seen = new Set<string>();
  for (const query of catalog.savedQueries ?? []) {
    if (seen.has(query.name)) problems.add(`saved_queries.${query.name}`, 'DUPLICATE_NAME', `saved query '${query.name}' is defined twice`);
    seen.add(query.name);
    for (const name of query.metrics) {
      if (!metrics.has(name)) problems.add(`saved_queries.${query.name}.metrics`, 'UNKNOWN_METRIC', `metric '${name}' is not defined`);
    }
  }
}
