import type { Catalog, Measure, MeasureInput, Metric, Model } from './types.ts';
import { safeReaches, lookupDimension, type DimensionLookup, type Reach } from './join-graph.ts';

/** Lookups over a catalog, built once per catalog and shared by every query against it. */
export interface CatalogIndex {
  readonly catalog: Catalog;
  readonly models: ReadonlyMap<string, Model>;
  readonly metrics: ReadonlyMap<string, Metric>;
  model(name: string): Model;
  measure(input: MeasureInput): { readonly model: Model; readonly measure: Measure };
  /** Roles reachable from a model without fan-out. */
  reaches(model: Model): readonly Reach[];
  /** `role.dimension` as seen from `base`. */
  dimension(base: Model, role: string, name: string): DimensionLookup;
}

export function indexCatalog(catalog: Catalog): CatalogIndex {
  const models = new Map(catalog.models.map((m) => [m.name, m]));
  const metrics = new Map(catalog.metrics.map((m) => [m.name, m]));
  const reachCache = new Map<string, readonly Reach[]>();
  const index: CatalogIndex = {
    catalog,
    models,
    metrics,
    model(name) {
      const model = models.get(name);
      if (!model) throw new Error(`catalog invariant: no model '${name}'`);
      return model;
    },
    measure(input) {
      const model = index.model(input.model);
      const measure = model.measures.find((m) => m.name === input.measure);
      if (!measure) throw new Error(`catalog invariant: no measure '${input.model}.${input.measure}'`);
      return { model, measure };
    },
    reaches(model) {
      let reaches = reachCache.get(model.name);
      if (!reaches) {
        reaches = safeReaches(models, model);
        reachCache.set(model.name, reaches);
      }
      return reaches;
    },
    dimension(base, role, name) {
      return lookupDimension(models, index.reaches(base), base, role, name);
    },
  };
  return index;
}
