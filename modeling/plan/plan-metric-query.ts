import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { customGrainNames, parseDimensionRef, type DimensionRef } from '../catalog/dimension-ref.ts';
import { deepFreeze } from '../catalog/freeze.ts';
import { locateDimension } from '../catalog/locate-dimension.ts';
import type { Filter, Model } from '../catalog/types.ts';
import type { MetricPlan, PlanJoin, PlanNode, PlanQuery, PlanRewrite, PlanSubquery } from '../query/metric-plan.ts';
import { resolveQuery, type ResolvedQuery } from '../query/resolve-query.ts';
import { MetricPlanner } from './metric-planner.ts';

export interface PlanOptions {
  /** Faster physical shapes (see `CompileOptions.rewrites`); `false` plans the generic ones. */
  readonly fastShapes: boolean;
}

/**
 * The plan of a resolved query, frozen: its nodes, per metric a value over their columns,
 * the rewrites applied and the plans of its metric filters. Names only catalog members.
 */
export function planMetricQuery(index: CatalogIndex, resolved: ResolvedQuery, options: PlanOptions): MetricPlan {
  return deepFreeze(buildPlan(index, resolved, options, customGrainNames(index.catalog)));
}

function buildPlan(index: CatalogIndex, resolved: ResolvedQuery, options: PlanOptions, custom: ReadonlySet<string>): MetricPlan {
  const query = planQuery(resolved);
  const planner = new MetricPlanner(index, { sharePasses: options.fastShapes });
  const metrics = resolved.metrics.map((m) => ({ name: m.name, value: planner.expression(m, resolved.where ? [resolved.where] : [], []) }));
  const refs = new Map<string, DimensionRef>();
  const parse = (text: string): DimensionRef => {
    let ref = refs.get(text);
    if (!ref) refs.set(text, (ref = parseDimensionRef(text, custom)));
    return ref;
  };
  const nodes = planner.nodes.map(({ key: _key, ...node }): PlanNode => {
    const model = index.model(node.kind === 'aggregate' ? node.model : node.kind === 'cumulative' ? node.measure.model : node.base.model);
    const filters = [...node.filters, ...(node.kind === 'aggregate' ? node.columns.flatMap((c) => (c.filter ? [c.filter] : [])) : [])];
    return { ...node, joins: joinsOf(index, model, [...query.groupBy.map((g) => g.ref), ...filters.flatMap(filterDimensions).map(parse)]) };
  });
  const rewrites: PlanRewrite[] = [];
  for (const node of nodes) {
    if (node.kind === 'aggregate' && node.columns.length > 1)
      rewrites.push({ rewrite: 'shared_pass', node: node.id, measures: node.columns.map((c) => `${c.measure.model}.${c.measure.measure}`) });
    if (node.kind === 'aggregate' && node.nonAdditive)
      rewrites.push({ rewrite: 'semi_additive', node: node.id, dimension: node.nonAdditive.dimension, window: node.nonAdditive.window });
    if (node.kind === 'aggregate' && node.joinToTimeSpine && (index.catalog.timeSpines ?? []).length > 0 && query.groupBy.some((g) => g.metricTime))
      rewrites.push({ rewrite: 'time_spine_join', node: node.id });
    if (node.offsets.length > 0) rewrites.push({ rewrite: 'time_offset', node: node.id });
  }
  for (const m of resolved.metrics) if (m.fillNullsWith !== undefined) rewrites.push({ rewrite: 'fill_nulls', metric: m.name, fill: m.fillNullsWith });
  const subqueries = metricFilters(index, query, nodes).map(
    (leaf): PlanSubquery => ({
      metric: leaf.metric,
      groupBy: leaf.groupBy,
      plan: buildPlan(
        index,
        resolveQuery(index, {
          metrics: [leaf.metric],
          groupBy: leaf.groupBy.map((dimension) => ({ dimension })),
          ...(query.scope ? { scope: query.scope } : {}),
        }),
        options,
        custom,
      ),
    }),
  );
  for (const s of subqueries) rewrites.push({ rewrite: 'metric_filter_subquery', metric: s.metric, groupBy: s.groupBy });
  return { query, nodes, metrics, rewrites, subqueries, fastShapes: options.fastShapes };
}

export function planQuery(resolved: ResolvedQuery): PlanQuery {
  const { metrics: _metrics, models: _models, distinctFrom, ...rest } = resolved;
  return { ...rest, ...(distinctFrom ? { distinctFrom: distinctFrom === 'time_spine' ? 'time_spine' : distinctFrom.name } : {}) };
}

/** The models a node joins to reach the given references (those it cannot reach are left to the renderer's checks). */
function joinsOf(index: CatalogIndex, model: Model, refs: readonly DimensionRef[]): PlanJoin[] {
  const joins = new Map<string, PlanJoin>();
  for (const ref of refs) {
    if (ref.kind === 'metric_time') continue;
    const found = locateDimension(index, model, ref);
    if (!found.ok) continue;
    const path: string[] = [];
    for (const step of found.located.steps) {
      path.push(step.join.name);
      const key = path.join('/');
      const validity = index.models.get(step.join.model)?.validity;
      if (!joins.has(key)) joins.set(key, { path: key, model: step.join.model, ...(validity ? { validity: { ...validity } } : {}) });
    }
  }
  return [...joins.values()];
}

function filterDimensions(filter: Filter): string[] {
  if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.flatMap(filterDimensions);
  if (filter.kind === 'not') return filterDimensions(filter.filter);
  return filter.kind === 'compare' ? [filter.dimension] : [];
}

type MetricLeaf = Extract<Filter, { kind: 'metric' }>;

/** Every distinct metric filter the statement may compile: in the query's filter, the nodes and their measures. */
function metricFilters(index: CatalogIndex, query: PlanQuery, nodes: readonly PlanNode[]): MetricLeaf[] {
  const found = new Map<string, MetricLeaf>();
  const visit = (filter: Filter | undefined): void => {
    if (!filter) return;
    if (filter.kind === 'and' || filter.kind === 'or') filter.filters.forEach(visit);
    else if (filter.kind === 'not') visit(filter.filter);
    else if (filter.kind === 'metric') found.set(JSON.stringify([filter.metric, filter.groupBy]), filter);
  };
  visit(query.where);
  for (const node of nodes) {
    node.filters.forEach(visit);
    const measures =
      node.kind === 'aggregate' ? node.columns.map((c) => c.measure) : node.kind === 'cumulative' ? [node.measure] : [node.base, node.conversion];
    for (const m of measures) visit(index.measure(m).measure.filter);
    if (node.kind === 'aggregate') for (const c of node.columns) visit(c.filter);
  }
  return [...found.values()];
}
