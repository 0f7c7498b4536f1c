import type { Aggregation, Cardinality, Dimension, DimensionType, Grain, Join, Measure, Model, Sensitivity, Status, TimeStorage } from '../catalog/types.ts';
import { toFilter, type FilterInput } from '../catalog/filter-input.ts';
import { deepFreeze } from '../catalog/freeze.ts';

export interface DimensionSpec {
  readonly type: DimensionType;
  readonly description: string;
  /** SQL over the model's columns; defaults to the column of the dimension's name. */
  readonly sql?: string;
  /** Time dimensions: finest grain of the data (default DAY) and column storage (default timestamptz). */
  readonly grain?: Grain;
  readonly storage?: TimeStorage;
  /** Sensitivity class (default `internal`); identifiers and contact data are `personal`. */
  readonly sensitivity?: Sensitivity;
  /** Time dimensions: class of values finer than a day (default as `sensitivity`). */
  readonly subDaySensitivity?: Sensitivity;
}

export interface MeasureSpec {
  readonly aggregation: Aggregation;
  readonly description: string;
  /** SQL aggregated; defaults to the column of the measure's name (`*` for count). */
  readonly sql?: string;
  /** Rows the measure counts; dimensions are this model's (`txn_type`) or reachable (`product.product_type`). */
  readonly filter?: FilterInput;
  readonly timeDimension?: string;
  readonly percentile?: { readonly fraction: number; readonly discrete?: boolean };
  /** Semi-additive along a time dimension: only rows at the group's last (max) or first (min) time count. */
  readonly nonAdditive?: { readonly dimension: string; readonly window?: 'min' | 'max'; readonly groupings?: readonly string[] };
  /** Sensitivity class of the aggregate (default `internal`). */
  readonly sensitivity?: Sensitivity;
}

export interface JoinSpec {
  readonly model: string;
  readonly cardinality: Cardinality;
  /** This model's column -> the joined model's column. */
  readonly on: Readonly<Record<string, string>>;
}

export interface ModelSpec {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly status?: Status;
  /** `schema.table` ... */
  readonly table?: string;
  /** ... or a SELECT written by the model author. */
  readonly sql?: string;
  readonly primaryKey: string | readonly string[];
  readonly timeZone?: string;
  readonly defaultTimeDimension?: string;
  readonly dimensions: Readonly<Record<string, DimensionSpec>>;
  readonly measures?: Readonly<Record<string, MeasureSpec>>;
  /** Keyed by the name the joined model is reached by (usually the model's own name). */
  readonly joins?: Readonly<Record<string, JoinSpec>>;
  /**
   * A slowly changing dimension: each row is a version of its key, valid from the `start`
   * time dimension (inclusive) until `end` (exclusive; null while current). A many_to_one
   * join to such a model reads the version valid at the fact's time. It holds no measures.
   */
  readonly validity?: { readonly start: string; readonly end: string };
}

/**
 * Defines a model over a table (or SQL) as frozen catalog data; `buildCatalog` validates it.
 *
 * ```ts
 * const product = defineModel({
 *   name: 'product', table: 'wealth.products', primaryKey: 'product_id',
 *   description: 'Wealth products on sale', owner: 'product-data',
 *   dimensions: { product_type: { type: 'string', description: 'Kind of product' } },
 *   measures: { products: { aggregation: 'count', sql: '*', description: 'Products' } },
 * });
 * ```
 */
export function defineModel(spec: ModelSpec): Model {
  const model: Model = {
    name: spec.name,
    description: spec.description,
    owner: spec.owner,
    status: spec.status ?? 'PUBLISHED',
    source: spec.sql !== undefined ? { sql: spec.sql } : { table: spec.table ?? '' },
    primaryKey: typeof spec.primaryKey === 'string' ? [spec.primaryKey] : [...spec.primaryKey],
    timeZone: spec.timeZone ?? 'UTC',
    ...(spec.defaultTimeDimension ? { defaultTimeDimension: spec.defaultTimeDimension } : {}),
    dimensions: Object.entries(spec.dimensions).map(([name, d]) => toDimension(name, d)),
    measures: Object.entries(spec.measures ?? {}).map(([name, m]) => toMeasure(spec.name, name, m)),
    joins: Object.entries(spec.joins ?? {}).map(([name, j]) => toJoin(name, j)),
    ...(spec.validity ? { validity: { start: spec.validity.start, end: spec.validity.end } } : {}),
  };
  return deepFreeze(model);
}

function toDimension(name: string, spec: DimensionSpec): Dimension {
  return {
    name,
    type: spec.type,
    description: spec.description,
    sql: spec.sql ?? name,
    ...(spec.type === 'time' ? { grain: spec.grain ?? 'DAY', storage: spec.storage ?? 'timestamptz' } : {}),
    ...(spec.sensitivity ? { sensitivity: spec.sensitivity } : {}),
    ...(spec.type === 'time' && spec.subDaySensitivity ? { subDaySensitivity: spec.subDaySensitivity } : {}),
  };
}

function toMeasure(model: string, name: string, spec: MeasureSpec): Measure {
  return {
    name,
    aggregation: spec.aggregation,
    description: spec.description,
    sql: spec.sql ?? (spec.aggregation === 'count' ? '*' : name),
    ...(spec.filter ? { filter: toFilter(qualify(spec.filter, model), `models.${model}.measures.${name}.filter`) } : {}),
    ...(spec.timeDimension ? { timeDimension: spec.timeDimension } : {}),
    ...(spec.percentile ? { percentile: { fraction: spec.percentile.fraction, discrete: spec.percentile.discrete ?? false } } : {}),
    ...(spec.nonAdditive
      ? { nonAdditive: { dimension: spec.nonAdditive.dimension, window: spec.nonAdditive.window ?? 'max', groupings: [...(spec.nonAdditive.groupings ?? [])] } }
      : {}),
    ...(spec.sensitivity ? { sensitivity: spec.sensitivity } : {}),
  };
}

function toJoin(name: string, spec: JoinSpec): Join {
  return { name, model: spec.model, cardinality: spec.cardinality, on: Object.entries(spec.on).map(([from, to]) => [from, to] as const) };
}

/** A bare dimension name in a model's own filter means that model's dimension. */
function qualify(filter: FilterInput, model: string): FilterInput {
  if ('and' in filter) return { and: filter.and.map((f) => qualify(f, model)) };
  if ('or' in filter) return { or: filter.or.map((f) => qualify(f, model)) };
  if ('not' in filter) return { not: qualify(filter.not, model) };
  return filter.dimension.includes('.') ? filter : { ...filter, dimension: `${model}.${filter.dimension}` };
}
