import type { RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Filter, Measure, Model } from '../catalog/types.ts';
import type { Relation } from './relation.ts';
import { locateDimension, memberOf } from '../catalog/locate-dimension.ts';
import type { ResolvedGroupBy } from '../query/resolve-query.ts';
import type { PlanQuery } from '../query/metric-plan.ts';
import { conversionNodeSql, type AnchorGroup, type AnchorPlan } from './conversion-node.ts';
import { POSTGRES_DIALECT, type SqlDialect } from './dialect.ts';
import { buildNodeScope, type MetricSubquery } from './node-scope.ts';
import { truncate } from './time.ts';
import type { ConversionMetric } from '../catalog/types.ts';
import type { ConversionPlanNode } from '../query/metric-plan.ts';

/** A conversion node with its metric looked up. */
type ConversionNode = Omit<ConversionPlanNode, 'metric'> & { readonly metric: ConversionMetric };

/**
 * The two sides of a conversion metric: base events carry the query's group-bys, filters and
 * time range; conversion events carry none (they take the matched base event's values).
 */
export function conversionSql(
  index: CatalogIndex,
  query: PlanQuery,
  node: ConversionNode,
  prefix: string,
  options: { rewrites: boolean; subquery?: MetricSubquery; dialect?: SqlDialect },
): RawBuilder<unknown> {
  const { subquery } = options;
  const metricflow = node.metric.window.sameTimeCounts === true;
  const side = (
    input: typeof node.metric.base,
    filters: typeof node.filters,
    entityName: string,
    properties: readonly string[],
    sidePrefix: string,
    forQuery: PlanQuery,
  ) => {
    const { model, measure } = index.measure(input);
    const timeDimension = measure.timeDimension ?? model.defaultTimeDimension ?? '';
    const all = measure.filter ? [...filters, measure.filter] : filters;
    const scope = buildNodeScope({
      index,
      query: forQuery,
      model,
      timeDimension,
      filters: all,
      offsets: node.offsets,
      prefix: sidePrefix,
      ...(subquery ? { subquery } : {}),
    });
    const column = (name: string) => scope.relation.baseColumn(memberOf(model, name)?.sql ?? name);
    const dimension = model.dimensions.find((d) => d.name === timeDimension);
    const raw = scope.relation.baseColumn(dimension?.sql ?? timeDimension);
    // MetricFlow compares event times at the time dimension's grain.
    const time = metricflow ? truncate({ expr: raw, storage: dimension?.storage ?? 'timestamptz', timeZone: model.timeZone }, dimension?.grain ?? 'DAY') : raw;
    return { scope, measure, model, entity: column(entityName), time, properties: properties.map(column) };
  };
  const constants = node.metric.constantProperties ?? [];
  const base = side(
    node.metric.base,
    node.filters,
    node.metric.entity.base,
    constants.map((c) => c.base),
    `${prefix}b`,
    query,
  );
  const conversionQuery: PlanQuery = { ...query, groupBy: [], orderBy: [] };
  const conversion = side(
    node.metric.conversion,
    [],
    node.metric.entity.conversion,
    constants.map((c) => c.conversion),
    `${prefix}c`,
    conversionQuery,
  );
  const rowKey = conversion.model.primaryKey.map((k) => conversion.scope.relation.baseColumn(k));
  const anchors =
    !options.rewrites || metricflow || constants.length > 0 || node.offsets.length > 0 || node.filters.some(readsMetric)
      ? undefined
      : anchorPlan(index, query, node, base, conversion);
  const dialect = options.dialect ?? POSTGRES_DIALECT;
  // First-ever anchors within a time range: the base events again under their own aliases,
  // probed for an entity's earlier event, so only the range's rows (partitions) are scanned.
  const prior =
    anchors && node.metric.baseEvents === 'first_ever' && dialect.supportsCorrelatedSubqueryWithCte && base.scope.range.from
      ? side(node.metric.base, node.filters, node.metric.entity.base, [], `${prefix}p`, { ...query, groupBy: [], orderBy: [] })
      : undefined;
  return conversionNodeSql(
    node.metric,
    base,
    { ...conversion, rowKey },
    { opportunities: node.opportunities, conversions: node.conversions },
    anchors,
    dialect,
    prior,
  );
}

/**
 * The anchors of a first-ever or first-in-period conversion can be aggregated instead of
 * ranked when each group-by is fixed by the entity (a column reached through a join on the
 * entity) or derived from the event time, and both measures count the entity or rows.
 */
function anchorPlan(
  index: CatalogIndex,
  query: PlanQuery,
  node: ConversionNode,
  base: { model: Model; measure: Measure; scope: { isPeriod: readonly boolean[]; relation: Relation } },
  conversion: { model: Model; measure: Measure },
): AnchorPlan | undefined {
  const counts = (side: { model: Model; measure: Measure }, entityName: string): AnchorPlan['baseValue'] | undefined => {
    if (side.measure.aggregation !== 'count' && side.measure.aggregation !== 'count_distinct') return undefined;
    if (side.measure.sql === '*') return 'one';
    return side.measure.sql === entitySql(side.model, entityName) ? 'entity' : undefined;
  };
  const baseValue = counts(base, node.metric.entity.base);
  const conversionValue = counts(conversion, node.metric.entity.conversion);
  if (!baseValue || !conversionValue) return undefined;
  const entity = entitySql(base.model, node.metric.entity.base);
  const timeDimension = base.model.dimensions.find((d) => d.name === (base.measure.timeDimension ?? base.model.defaultTimeDimension));
  if (!timeDimension || timeDimension.sql === entity) return undefined;
  const groups: AnchorGroup[] = [];
  for (const [i, g] of query.groupBy.entries()) {
    const kind = anchorGroup(index, base.model, entity, g, base.scope.isPeriod[i] === true);
    if (!kind || (kind === 'period' && node.metric.baseEvents === 'first_ever')) return undefined;
    groups.push(kind);
  }
  const relation = base.scope.relation;
  return { groups, baseValue, conversionValue, columns: { entity: relation.baseColumnName(entity), time: relation.baseColumnName(timeDimension.sql) } };
}

/** Whether a filter compares against a metric (a join the anchors' own table cannot carry). */
function readsMetric(filter: Filter): boolean {
  if (filter.kind === 'and' || filter.kind === 'or') return filter.filters.some(readsMetric);
  if (filter.kind === 'not') return readsMetric(filter.filter);
  return filter.kind === 'metric';
}

function entitySql(model: Model, name: string): string {
  return memberOf(model, name)?.sql ?? name;
}

export function anchorGroup(index: CatalogIndex, model: Model, entity: string, g: ResolvedGroupBy, isPeriod: boolean): AnchorGroup | undefined {
  if (isPeriod) return g.grain && !g.datePart && !g.customGrain ? 'grain' : 'period';
  if (g.ref.kind === 'metric_time') return undefined;
  const found = locateDimension(index, model, g.ref);
  if (!found.ok) return undefined;
  const [first] = found.located.steps;
  if (!first) return found.located.dimension.sql === entity ? 'entity' : undefined;
  const [pair] = first.join.on;
  const throughEntity = first.join.on.length === 1 && pair?.[0] === entity;
  return throughEntity && found.located.steps.every((s) => s.join.cardinality !== 'one_to_many') ? 'entity' : undefined;
}
