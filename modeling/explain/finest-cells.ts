import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Metric, Model } from '../catalog/types.ts';
import { locateDimension } from '../catalog/locate-dimension.ts';
import { customGrainNames, parseDimensionRef } from '../catalog/dimension-ref.ts';

/**
 * When an explanation's one-dimension tables (and its totals) are exact sums of one query
 * grouped by all its dimensions at once, the finest cells, so that one statement per period
 * replaces one per dimension and period:
 *
 * - every metric read (the metric, or a ratio's two parts) is a simple count: of rows, or
 *   of distinct subjects (the subject model's key); integers, so the sums are exact;
 * - every dimension is a column of the subject model, reached from the measure's model by
 *   one many-to-one join on the subject's key (or read on the subject model itself), of a
 *   model without versions: a subject falls in exactly one cell, so a distinct count of
 *   subjects (a metric, or the hidden contributor count behind small-cell suppression)
 *   adds up over the cells like a count of rows.
 *
 * Joins are many-to-one, so a row falls in exactly one cell too. Gives, per dimension,
 * whether its values are numbers (for their order).
 */
export function cellsAddUp(
  index: CatalogIndex,
  subject: string | undefined,
  metrics: readonly Metric[],
  dimensions: readonly string[],
): { readonly numeric: readonly boolean[] } | undefined {
  const subjectModel = subject ? index.models.get(subject) : undefined;
  if (!subjectModel || subjectModel.validity || subjectModel.primaryKey.length !== 1) return undefined;
  const [subjectKey] = subjectModel.primaryKey as [string];
  const custom = customGrainNames(index.catalog);
  const numeric = dimensions.map(() => false);
  const exact = metrics.every((metric) => {
    if (metric.type !== 'SIMPLE' || metric.joinToTimeSpine) return false;
    const { model, measure } = index.measure(metric.measure);
    const key = keyColumn(model, subjectModel, subjectKey);
    if (key === undefined || measure.nonAdditive) return false;
    if (measure.aggregation !== 'count' && !(measure.aggregation === 'count_distinct' && measure.sql === key)) return false;
    return dimensions.every((text, d) => {
      const ref = parseDimensionRef(text, custom);
      if (ref.kind === 'metric_time') return false;
      const found = locateDimension(index, model, ref);
      // Time values would need their own order (and grains): those dimensions take the one-dimension queries.
      if (!found.ok || found.located.model.name !== subjectModel.name || found.located.dimension.type === 'time') return false;
      const { steps } = found.located;
      numeric[d] = found.located.dimension.type === 'number';
      if (model.name === subjectModel.name) return steps.length === 0;
      const [step] = steps;
      return (
        steps.length === 1 &&
        step !== undefined &&
        step.join.cardinality === 'many_to_one' &&
        step.join.on.length === 1 &&
        step.join.on[0]?.[0] === key &&
        step.join.on[0]?.[1] === subjectKey
      );
    });
  });
  return exact && metrics.length > 0 ? { numeric } : undefined;
}

/** The column of a model's rows holding the subject's key: the key itself on the subject model. */
function keyColumn(model: Model, subject: Model, subjectKey: string): string | undefined {
  if (model.name === subject.name) return subjectKey;
  const join = model.joins.find((j) => j.model === subject.name && j.cardinality === 'many_to_one' && j.on.length === 1 && j.on[0]?.[1] === subjectKey);
  return join?.on[0]?.[0];
}

/** One row of the finest cells: the value of each dimension, each metric's value and subject count. */
export interface Cell {
  readonly values: readonly unknown[];
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly counts: Readonly<Record<string, number>>;
}

/** A margin of the cells: per value of one dimension (or one row for the total), the summed metrics and counts. */
export interface Margin {
  readonly value: unknown;
  /** Sum over the cells, null when every cell's is null (as the grouped query would have it). */
  readonly metrics: Record<string, number | null>;
  /** Sum over the cells, for the metrics the cells count subjects of. */
  readonly counts: Record<string, number>;
}

/**
 * The cells summed by one dimension (by its position), or all of them (`undefined`: one
 * row, the total), in the order a grouped query orders its values: ascending, nulls last.
 */
export function margins(cells: readonly Cell[], dimension: number | undefined, metrics: readonly string[], numeric = false): Margin[] {
  const byValue = new Map<string, Margin>();
  for (const cell of cells) {
    const value = dimension === undefined ? null : cell.values[dimension];
    const key = JSON.stringify(value ?? null);
    let margin = byValue.get(key);
    if (!margin) {
      margin = { value, metrics: Object.fromEntries(metrics.map((m) => [m, null])), counts: {} };
      byValue.set(key, margin);
    }
    for (const m of metrics) {
      const v = cell.metrics[m];
      if (v !== null && v !== undefined) margin.metrics[m] = (margin.metrics[m] ?? 0) + Number(v);
    }
    for (const [m, count] of Object.entries(cell.counts)) margin.counts[m] = (margin.counts[m] ?? 0) + count;
  }
  return [...byValue.values()].sort((a, b) => compareValues(a.value, b.value, numeric));
}

/**
 * PostgreSQL's ascending order with a binary collation: nulls last, numbers by value (a
 * number dimension's `numeric` values arrive as text), text by code point.
 */
function compareValues(a: unknown, b: unknown, numeric: boolean): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (numeric || (typeof a === 'number' && typeof b === 'number')) return Number(a) - Number(b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
