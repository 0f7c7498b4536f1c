import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { canonicalDimension, concreteRollups, rollsUpTo, type ConcreteRollup } from '../catalog/rollups.ts';
import { numberText } from '../catalog/expression.ts';
import { leaves } from '../catalog/condition.ts';
import type { DimensionType, Expression, Filter, Grain, Metric, MetricInput } from '../catalog/types.ts';
import type { MetricPlan, PlanRewrite, PlanRollup, PlanRollupColumn, PlanValue } from '../query/metric-plan.ts';
import type { ResolvedQuery } from '../query/resolve-query.ts';
import { nextPeriodStart, periodStart, widenToGrain } from '../sql/time.ts';
import { timeGrain } from './metric-planner.ts';

type Reaggregate = PlanRollupColumn['reaggregate'];

/**
 * The plan of a query answered from a rollup, or undefined when no rollup covers it (then
 * raw tables answer). A rollup covers a query when every metric is made of leaves it stores
 * (no cumulative metric, no input filter or offset), every group-by is one of its dimensions
 * or metric_time at its grain or a coarser one that nests, every filter names its dimensions
 * only, and the time range falls on its periods. Re-aggregation keeps every value exact:
 * sums and counts add up; distinct counts, averages and conversions only at exactly the
 * rollup's dimensions and grain (or without metric_time over exactly one stored period); semi-additive measures pick the last (first) stored day of
 * each period, or at a coarser stored grain only at exactly its grain and without filters.
 * Of several rollups that cover, the one with the fewest dimensions (fewest rows) answers.
 */
export function matchRollup(index: CatalogIndex, resolved: ResolvedQuery, fastShapes: boolean, planQuery: MetricPlan['query']): MetricPlan | undefined {
  if (resolved.distinctFrom || resolved.metrics.length === 0) return undefined;
  let best: { plan: MetricPlan; rollup: ConcreteRollup } | undefined;
  for (const rollup of concreteRollups(index.catalog)) {
    if (best && best.rollup.dimensions.length <= rollup.dimensions.length) continue;
    const plan = tryRollup(index, resolved, rollup, fastShapes, planQuery);
    if (plan) best = { plan, rollup };
  }
  return best?.plan;
}

function tryRollup(
  index: CatalogIndex,
  resolved: ResolvedQuery,
  rollup: ConcreteRollup,
  fastShapes: boolean,
  query: MetricPlan['query'],
): MetricPlan | undefined {
  const stored = new Map(rollup.leaves.map((l) => [l.metric, l]));
  const dims = new Set(rollup.dimensions);
  const types = new Map<string, DimensionType>();
  // Group-bys: metric_time at a grain the stored one rolls up to, or a stored dimension.
  const groupBy: PlanRollup['groupBy'][number][] = [];
  const grouped = new Set<string>();
  let exactTime = false;
  for (const g of resolved.groupBy) {
    if (g.metricTime) {
      if (!g.grain || g.datePart || g.customGrain || !rollsUpTo(rollup.timeGrain, g.grain)) return undefined;
      if (g.grain === rollup.timeGrain) exactTime = true;
      groupBy.push({ kind: 'time', grain: g.grain });
      continue;
    }
    const dimension = canonicalDimension(g.text);
    if (g.type === 'time' || g.datePart || !dims.has(dimension)) return undefined;
    types.set(dimension, g.type);
    grouped.add(dimension);
    groupBy.push({ kind: 'dimension', dimension });
  }
  const exactDims = grouped.size === dims.size;
  // Filters and the row scope: comparisons of stored dimensions only.
  const filters = [resolved.where, resolved.scope].filter((f): f is Filter => f !== undefined);
  for (const leaf of filters.flatMap((f) => leaves(f))) {
    if (leaf.kind !== 'compare' || leaf.grain) return undefined;
    const dimension = canonicalDimension(leaf.dimension);
    if (!dims.has(dimension)) return undefined;
  }
  const where = filters.length === 0 ? undefined : filters.length === 1 ? canonicalFilter(filters[0] as Filter) : canonicalFilter({ kind: 'and', filters });
  // The range: whole stored periods.
  const range = periodRange(resolved, rollup.timeGrain);
  if (!range) return undefined;
  // Without metric_time, a range of exactly one stored period reads that period's rows as stored.
  if (!resolved.groupBy.some((g) => g.metricTime) && range.from && range.to === nextPeriodStart(range.from, rollup.timeGrain)) exactTime = true;
  const exact = exactDims && exactTime;
  const columns: PlanRollupColumn[] = [];
  const column = (leaf: string, part: PlanRollupColumn['part'], reaggregate: Reaggregate, zeroIfEmpty: boolean): PlanValue => {
    let found = columns.find((c) => c.leaf === leaf && c.part === part);
    if (!found) {
      found = { column: `l${columns.length}`, leaf, part, reaggregate, ...(zeroIfEmpty ? { zeroIfEmpty: true } : {}) };
      columns.push(found);
    }
    return { kind: 'column', node: 'rollup', column: found.column };
  };
  const noGroups = resolved.groupBy.length === 0;
  const expression = (metric: Metric, inherited: boolean): PlanValue | undefined => {
    const value = valueOf(metric, inherited);
    if (!value) return undefined;
    return metric.fillNullsWith !== undefined ? { kind: 'fill', value, fill: metric.fillNullsWith } : value;
  };
  const input = (i: MetricInput, inherited: boolean): PlanValue | undefined => {
    if (i.filter || i.offsetWindow || i.offsetToGrain || i.offsetCustom) return undefined;
    const metric = index.metrics.get(i.metric);
    return metric ? expression(metric, inherited) : undefined;
  };
  const valueOf = (metric: Metric, inherited: boolean): PlanValue | undefined => {
    switch (metric.type) {
      case 'SIMPLE': {
        // The stored leaf has the metric's own filter; one inherited from a ratio or derived metric does not.
        if (inherited || metric.joinToTimeSpine || !stored.has(metric.name)) return undefined;
        const { model, measure } = index.measure(metric.measure);
        const time = measure.timeDimension ?? model.defaultTimeDimension ?? '';
        let reaggregate: Reaggregate;
        const additive = ['sum', 'count', 'sum_boolean'].includes(measure.aggregation);
        if (measure.nonAdditive) {
          const own = measure.nonAdditive.groupings.length === 0 && measure.nonAdditive.dimension === time && timeGrain(model, time) === rollup.timeGrain;
          if (own && (additive || exactDims)) reaggregate = measure.nonAdditive.window === 'max' ? 'last' : 'first';
          else if (exact && !where) reaggregate = additive ? 'sum' : 'exact';
          else return undefined;
        } else if (additive) reaggregate = 'sum';
        else if (measure.aggregation === 'min' || measure.aggregation === 'max') reaggregate = measure.aggregation;
        else if (exact) reaggregate = 'exact';
        else return undefined;
        const zero = noGroups && (measure.aggregation === 'count' || measure.aggregation === 'count_distinct');
        return column(metric.name, 'value', reaggregate, zero);
      }
      case 'CONVERSION': {
        if (inherited || !exact || !stored.has(metric.name)) return undefined;
        const conversions = column(metric.name, 'conversions', 'exact', false);
        if (metric.calculation === 'conversions') return conversions;
        return { kind: 'ratio', numerator: conversions, denominator: column(metric.name, 'opportunities', 'exact', false) };
      }
      case 'RATIO': {
        const filtered = inherited || metric.filter !== undefined;
        const numerator = input(metric.numerator, filtered);
        const denominator = input(metric.denominator, filtered);
        return numerator && denominator ? { kind: 'ratio', numerator, denominator } : undefined;
      }
      case 'DERIVED': {
        const filtered = inherited || metric.filter !== undefined;
        const inputs = new Map(metric.inputs.map((i) => [i.alias ?? i.metric, i]));
        return derived(metric.expression, inputs, filtered);
      }
      case 'CUMULATIVE':
        return undefined;
    }
  };
  const derived = (e: Expression, inputs: ReadonlyMap<string, MetricInput>, filtered: boolean): PlanValue | undefined => {
    switch (e.kind) {
      case 'number':
        return { kind: 'number', text: numberText(e) };
      case 'ref': {
        const i = inputs.get(e.name);
        return i ? input(i, filtered) : undefined;
      }
      case 'negate': {
        const operand = derived(e.operand, inputs, filtered);
        return operand && { kind: 'negate', operand };
      }
      case 'binary': {
        const left = derived(e.left, inputs, filtered);
        const right = derived(e.right, inputs, filtered);
        return left && right ? { kind: 'binary', op: e.op, left, right } : undefined;
      }
      case 'call': {
        const args = e.args.map((a) => derived(a, inputs, filtered));
        return args.every((a) => a !== undefined) ? { kind: 'call', fn: e.fn, args: args as PlanValue[] } : undefined;
      }
    }
  };
  const metrics: { name: string; value: PlanValue }[] = [];
  for (const metric of resolved.metrics) {
    const value = expression(metric, false);
    if (!value) return undefined;
    metrics.push({ name: metric.name, value });
  }
  // Filter-only dimensions need their types too: a stored dimension has one type in every leaf's model.
  for (const leaf of filters.flatMap((f) => leaves(f)))
    if (leaf.kind === 'compare') {
      const dimension = canonicalDimension(leaf.dimension);
      if (!types.has(dimension)) {
        const type = dimensionType(index, dimension);
        if (!type) return undefined;
        types.set(dimension, type);
      }
    }
  const rewrites: PlanRewrite[] = [{ rewrite: 'rollup', rollup: rollup.name }];
  for (const m of resolved.metrics) if (m.fillNullsWith !== undefined) rewrites.push({ rewrite: 'fill_nulls', metric: m.name, fill: m.fillNullsWith });
  return {
    query,
    nodes: [],
    metrics,
    rewrites,
    subqueries: [],
    fastShapes,
    rollup: {
      rollup: rollup.name,
      timeGrain: rollup.timeGrain,
      groupBy,
      ...(where ? { where } : {}),
      range,
      columns,
      dimensions: [...types].map(([dimension, type]) => ({ dimension, type })),
    },
  };
}

/** The query's range widened as raw reads it, as stored period starts; undefined when a bound falls inside a stored period. */
function periodRange(resolved: ResolvedQuery, grain: Grain): PlanRollup['range'] | undefined {
  if (!resolved.timeRange) return {};
  const widened = widenToGrain(resolved.timeRange, resolved.timeRangeGrain);
  const bound = (text: string | undefined): string | null | undefined => {
    if (text === undefined) return undefined;
    const m = /^(\d{4}-\d{2}-\d{2})(?:T00:00(?::00(?:\.0+)?)?)?$/.exec(text);
    if (!m) return null;
    const day = m[1] as string;
    return periodStart(day, grain) === day ? day : null;
  };
  const from = bound(widened.from);
  const to = bound(widened.to);
  if (from === null || to === null) return undefined;
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

function canonicalFilter(filter: Filter): Filter {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return { kind: filter.kind, filters: filter.filters.map(canonicalFilter) };
    case 'not':
      return { kind: 'not', filter: canonicalFilter(filter.filter) };
    case 'compare':
      return { ...filter, dimension: canonicalDimension(filter.dimension) };
    case 'metric':
      return filter;
  }
}

/** The type of a stored dimension (`model.dimension`, or through joins: `customer.tag.key`). */
function dimensionType(index: CatalogIndex, dimension: string): DimensionType | undefined {
  const parts = dimension.split('.');
  const [first] = parts;
  let model = first ? index.models.get(first) : undefined;
  for (const step of parts.slice(1, -1)) {
    const join = model?.joins.find((j) => j.name === step);
    model = join ? index.models.get(join.model) : undefined;
  }
  return model?.dimensions.find((d) => d.name === parts[parts.length - 1])?.type;
}
