import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { memberOf } from '../catalog/locate-dimension.ts';
import type { ResolvedQuery } from '../query/resolve-query.ts';
import { conversionNodeSql } from '../sql/conversion-node.ts';
import { buildNodeScope, type MetricSubquery } from '../sql/node-scope.ts';
import { truncate } from '../sql/time.ts';
import type { PlanNode } from './metric-planner.ts';

type ConversionNode = Extract<PlanNode, { kind: 'conversion' }>;

/**
 * The two sides of a conversion metric: base events carry the query's group-bys, filters and
 * time range; conversion events carry none (they take the matched base event's values).
 */
export function conversionSql(index: CatalogIndex, query: ResolvedQuery, node: ConversionNode, prefix: string, subquery?: MetricSubquery): RawBuilder<unknown> {
  const metricflow = node.metric.window.sameTimeCounts === true;
  const side = (input: typeof node.metric.base, filters: typeof node.filters, entityName: string, properties: readonly string[], sidePrefix: string, forQuery: ResolvedQuery) => {
    const { model, measure } = index.measure(input);
    const timeDimension = measure.timeDimension ?? model.defaultTimeDimension ?? '';
    const all = measure.filter ? [...filters, measure.filter] : filters;
    const scope = buildNodeScope({ index, query: forQuery, model, timeDimension, filters: all, offsets: node.offsets, prefix: sidePrefix, ...(subquery ? { subquery } : {}) });
    const column = (name: string) => scope.relation.baseColumn(memberOf(model, name)?.sql ?? name);
    const dimension = model.dimensions.find((d) => d.name === timeDimension);
    const raw = scope.relation.baseColumn(dimension?.sql ?? timeDimension);
    // MetricFlow compares event times at the time dimension's grain.
    const time = metricflow ? truncate({ expr: raw, storage: dimension?.storage ?? 'timestamptz', timeZone: model.timeZone }, dimension?.grain ?? 'DAY') : raw;
    return { scope, measure, model, entity: column(entityName), time, properties: properties.map(column) };
  };
  const constants = node.metric.constantProperties ?? [];
  const base = side(node.metric.base, node.filters, node.metric.entity.base, constants.map((c) => c.base), `${prefix}b`, query);
  const conversionQuery: ResolvedQuery = { ...query, groupBy: [], orderBy: [] };
  const conversion = side(node.metric.conversion, [], node.metric.entity.conversion, constants.map((c) => c.conversion), `${prefix}c`, conversionQuery);
  const rowKey = conversion.model.primaryKey.map((k) => conversion.scope.relation.baseColumn(k));
  return conversionNodeSql(node.metric, base, { ...conversion, rowKey }, { opportunities: node.opportunities, conversions: node.conversions });
}
