import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Dimension, Grain, Model } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import { TAG_JOIN, type Reach } from '../catalog/join-graph.ts';
import { leafMeasures } from '../catalog/lineage.ts';
import { METRIC_TIME } from '../catalog/dimension-ref.ts';

/** PostgreSQL type names the SQL interface reports for its columns. */
export type SqlColumnType = 'text' | 'numeric' | 'boolean' | 'date' | 'double precision';

/** One column of a semantic table: a dimension (at a grain for time) or a metric. */
export type SqlColumn =
  | {
      readonly kind: 'dimension';
      readonly name: string;
      /** The metric query's group-by reference (`transaction.channel`, `customer.tag.aum_tier`, `metric_time`). */
      readonly dimension: string;
      readonly grain?: Grain;
      readonly type: SqlColumnType;
      readonly description: string;
    }
  | { readonly kind: 'metric'; readonly name: string; readonly metric: string; readonly type: 'double precision'; readonly description: string };

/** A model as a table of the SQL interface. */
export interface SqlTable {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly SqlColumn[];
  /** Columns by name, for translation. */
  readonly byName: ReadonlyMap<string, SqlColumn>;
}

/** The grains a time column is offered at, finest first. */
export const SQL_TIME_GRAINS: readonly Grain[] = ['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];

/**
 * The semantic catalog as SQL tables: each model is a table whose columns are its own
 * dimensions (by name), the dimensions it reaches through many-to-one joins (named like
 * metric result columns: `customer__risk_level`, `customer__tag__aum_tier`), time dimensions
 * and `metric_time` at each grain from a day to a year (`metric_time__month`), and the
 * metrics whose (first) measure lives on the model.
 *
 * ```ts
 * const tables = semanticTables(index);
 * tables.get('transaction')?.byName.get('customer__risk_level');
 * // { kind: 'dimension', dimension: 'customer.risk_level', type: 'text', ... }
 * ```
 */
export function semanticTables(index: CatalogIndex): ReadonlyMap<string, SqlTable> {
  const tables = new Map<string, SqlTable>();
  const metricsByModel = new Map<string, SqlColumn[]>();
  for (const metric of index.metrics.values()) {
    const [leaf] = leafMeasures(metric, index.metrics);
    if (!leaf) continue;
    const columns = metricsByModel.get(leaf.model) ?? [];
    columns.push({ kind: 'metric', name: metric.name, metric: metric.name, type: 'double precision', description: metric.description });
    metricsByModel.set(leaf.model, columns);
  }
  for (const model of [...index.models.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const columns: SqlColumn[] = [];
    const seen = new Set<string>();
    const add = (column: SqlColumn) => {
      if (seen.has(column.name)) return;
      seen.add(column.name);
      columns.push(column);
    };
    for (const dimension of model.dimensions) dimensionColumns(dimension, dimension.name, `${model.name}.${dimension.name}`).forEach(add);
    const roleCounts = new Map<string, number>();
    for (const reach of index.reaches(model)) roleCounts.set(reach.role, (roleCounts.get(reach.role) ?? 0) + 1);
    for (const reach of index.reaches(model)) {
      if (reach.path.length === 0 || roleCounts.get(reach.role) !== 1) continue;
      const role = displayRole(model, reach);
      for (const dimension of reach.model.dimensions) {
        if (dimension.type === 'time') continue;
        dimensionColumns(dimension, `${role.replaceAll('.', '__')}__${dimension.name}`, `${role}.${dimension.name}`).forEach(add);
      }
    }
    const metrics = metricsByModel.get(model.name) ?? [];
    if (metrics.length > 0)
      for (const grain of SQL_TIME_GRAINS)
        add({
          kind: 'dimension',
          name: `${METRIC_TIME}__${grain.toLowerCase()}`,
          dimension: METRIC_TIME,
          grain,
          type: 'date',
          description: `Each metric's own time dimension, truncated to the ${grain.toLowerCase()} (the first day of the period).`,
        });
    metrics.forEach(add);
    tables.set(model.name, { name: model.name, description: model.description, columns, byName: new Map(columns.map((c) => [c.name, c])) });
  }
  return tables;
}

/** A role reached through a `tag` join reads as `customer.tag`, the form queries use for tags. */
function displayRole(base: Model, reach: Reach): string {
  const last = reach.path.at(-1);
  if (last?.join.name !== TAG_JOIN) return reach.role;
  const owner = reach.path.at(-2)?.join.name ?? base.name;
  return `${owner}.${TAG_JOIN}`;
}

function dimensionColumns(dimension: Dimension, name: string, reference: string): SqlColumn[] {
  if (dimension.type !== 'time') {
    const type: SqlColumnType = dimension.type === 'number' ? 'numeric' : dimension.type === 'boolean' ? 'boolean' : 'text';
    return [{ kind: 'dimension', name, dimension: reference, type, description: dimension.description }];
  }
  const finest = GRAINS.indexOf(dimension.grain ?? 'DAY');
  return SQL_TIME_GRAINS.filter((grain) => GRAINS.indexOf(grain) >= finest).map((grain) => ({
    kind: 'dimension' as const,
    name: `${name}__${grain.toLowerCase()}`,
    dimension: reference,
    grain,
    type: 'date' as const,
    description: `${dimension.description} (truncated to the ${grain.toLowerCase()})`,
  }));
}
