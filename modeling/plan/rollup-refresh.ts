import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { concreteRollups, type ConcreteRollup } from '../catalog/rollups.ts';
import { deepFreeze } from '../catalog/freeze.ts';
import type { MeasureInput } from '../catalog/types.ts';
import type { ConversionPlanNode, MetricPlan, PlanMetric, PlanValue } from '../query/metric-plan.ts';
import { resolveQuery } from '../query/resolve-query.ts';
import { planStatement } from '../sql/render-plan.ts';
import { POSTGRES_DIALECT, type SqlDialect } from '../sql/dialect.ts';
import { planMetricQuery } from './plan-metric-query.ts';
import { funnelRollupBuild } from './funnel-rollup.ts';
import type { RollupBuild } from './rollup-build.ts';

export type { RollupBuild } from './rollup-build.ts';

/**
 * How a rollup's rows are computed: the metric query of its leaves by metric_time at its
 * grain and its dimensions, planned by the compiler like any query and read from raw tables,
 * each leaf's value before `fill_nulls_with` (applied when read back) and a conversion's
 * conversions and opportunities apart, in the engine's SQL `dialect`. `index` is the catalog small-cell protection plans
 * with, so the contributor counts are stored beside the values. `name` may also be a rollup
 * not in the catalog (a shared refresh's grouping by several rollups' dimensions at once).
 */
export function rollupBuild(index: CatalogIndex, name: string | ConcreteRollup, dialect: SqlDialect = POSTGRES_DIALECT): RollupBuild {
  const rollup = typeof name === 'string' ? concreteRollups(index.catalog).find((r) => r.name === name) : name;
  if (!rollup) throw new Error(`no rollup '${name}'`);
  if (rollup.funnel) return funnelRollupBuild(index, rollup);
  const query = (range?: { from: string; to: string }) =>
    resolveQuery(index, {
      metrics: rollup.leaves.map((l) => l.metric),
      groupBy: [{ dimension: 'metric_time', grain: rollup.timeGrain }, ...rollup.dimensions.map((dimension) => ({ dimension }))],
      ...(range ? { timeRange: range } : {}),
      useRollups: false,
    });
  const resolved = query();
  const plan = (range: { from: string; to: string }): MetricPlan => {
    const raw = sharedConversions(index, planMetricQuery(index, query(range), { fastShapes: true }));
    const values = new Map(raw.metrics.map((m) => [m.name, unfilled(m.value)]));
    const metrics: PlanMetric[] = rollup.leaves.flatMap((leaf): PlanMetric[] => {
      const value = values.get(leaf.metric) as PlanValue;
      if (leaf.kind === 'simple') return [{ name: leaf.column, value }];
      if (value.kind !== 'ratio' && value.kind !== 'column') throw new Error(`plan invariant: conversion '${leaf.metric}' is not a ratio`);
      const conversions = value.kind === 'ratio' ? value.numerator : value;
      const node = raw.nodes.find((n) => n.kind === 'conversion' && conversions.kind === 'column' && n.id === conversions.node);
      if (node?.kind !== 'conversion') throw new Error(`plan invariant: no conversion node for '${leaf.metric}'`);
      return [
        { name: leaf.column, value: { kind: 'column', node: node.id, column: node.conversions } },
        { name: leaf.opportunities as string, value: { kind: 'column', node: node.id, column: node.opportunities } },
      ];
    });
    return deepFreeze({ ...raw, metrics });
  };
  const models = new Map<string, { model: string; timeDimension: string }>();
  let lookbackDays = 0;
  let reachesLater = false;
  for (const leaf of rollup.leaves) {
    const metric = index.metrics.get(leaf.metric);
    if (metric?.type === 'SIMPLE') {
      const { model, measure } = index.measure(metric.measure);
      models.set(model.name, { model: model.name, timeDimension: measure.timeDimension ?? model.defaultTimeDimension ?? '' });
    }
    if (metric?.type === 'CONVERSION') {
      for (const input of [metric.base, metric.conversion]) {
        const { model, measure } = index.measure(input);
        models.set(model.name, { model: model.name, timeDimension: measure.timeDimension ?? model.defaultTimeDimension ?? '' });
      }
      lookbackDays = Math.max(lookbackDays, windowDays(metric.window));
      if (metric.baseEvents === 'first_ever') reachesLater = true;
    }
  }
  return {
    rollup,
    columns: [
      { name: 'period', type: 'date' },
      ...rollup.dimensions.map((_, i) => ({ name: rollup.dimensionColumns[i] as string, type: resolved.groupBy[i + 1]?.type ?? 'string' })),
      ...rollup.leaves.flatMap((l) => [l.column, ...(l.opportunities ? [l.opportunities] : [])]).map((name) => ({ name, type: 'numeric' as const })),
    ],
    models: [...models.values()],
    lookback: `${lookbackDays} days`,
    reachesLater,
    plan,
    statement: (range) => planStatement(index, plan(range), dialect),
  };
}

/**
 * The plan with conversion nodes that compute the same rows merged: a conversion and its
 * hidden contributor count over measures defined alike (the entity counted on both sides)
 * are one computation, read once; the metrics of a dropped node read the kept one's columns.
 */
function sharedConversions(index: CatalogIndex, plan: MetricPlan): MetricPlan {
  const kept = new Map<string, ConversionPlanNode>();
  const renamed = new Map<string, { node: string; columns: Map<string, string> }>();
  const measureShape = (input: MeasureInput) => {
    const { model, measure } = index.measure(input);
    const { name: _name, description: _description, ...shape } = measure;
    return { model: model.name, ...shape };
  };
  const nodes = plan.nodes.filter((node) => {
    if (node.kind !== 'conversion') return true;
    const metric = index.metrics.get(node.metric);
    if (metric?.type !== 'CONVERSION') return true;
    const key = JSON.stringify({
      filters: node.filters,
      offsets: node.offsets,
      joins: node.joins,
      metric: [metric.entity, metric.window, metric.constantProperties ?? [], metric.baseEvents],
      base: measureShape(node.base),
      conversion: measureShape(node.conversion),
    });
    const same = kept.get(key);
    if (!same) {
      kept.set(key, node);
      return true;
    }
    renamed.set(node.id, {
      node: same.id,
      columns: new Map([
        [node.opportunities, same.opportunities],
        [node.conversions, same.conversions],
      ]),
    });
    return false;
  });
  if (renamed.size === 0) return plan;
  const rename = (value: PlanValue): PlanValue => {
    switch (value.kind) {
      case 'column': {
        const to = renamed.get(value.node);
        return to ? { kind: 'column', node: to.node, column: to.columns.get(value.column) ?? value.column } : value;
      }
      case 'negate':
        return { ...value, operand: rename(value.operand) };
      case 'binary':
        return { ...value, left: rename(value.left), right: rename(value.right) };
      case 'call':
        return { ...value, args: value.args.map(rename) };
      case 'ratio':
        return { ...value, numerator: rename(value.numerator), denominator: rename(value.denominator) };
      case 'fill':
        return { ...value, value: rename(value.value) };
      default:
        return value;
    }
  };
  return { ...plan, nodes, metrics: plan.metrics.map((m) => ({ ...m, value: rename(m.value) })) };
}

function unfilled(value: PlanValue): PlanValue {
  return value.kind === 'fill' ? unfilled(value.value) : value;
}

const DAYS: Record<string, number> = {
  MILLISECOND: 1 / 86_400_000,
  SECOND: 1 / 86_400,
  MINUTE: 1 / 1440,
  HOUR: 1 / 24,
  DAY: 1,
  WEEK: 7,
  MONTH: 31,
  QUARTER: 92,
  YEAR: 366,
};

/** Days a conversion window reaches past its base event (rounded up); no window: any later event (a century). */
function windowDays(window: { readonly max?: { readonly count: number; readonly grain: string } } | undefined): number {
  const max = window?.max;
  if (!max) return 36_500;
  return Math.ceil(max.count * (DAYS[max.grain] ?? 1));
}
