import type { RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { ResolvedQuery } from '../query/resolve-query.ts';
import { aggregateNodeSql, semiAdditiveNodeSql } from '../sql/aggregate-node.ts';
import { cumulativeNodeSql } from '../sql/cumulative-node.ts';
import { conversionNodeSql } from '../sql/conversion-node.ts';
import { buildNodeScope } from '../sql/node-scope.ts';
import type { PlanNode } from './metric-planner.ts';

/** The SELECT of one plan node; `prefix` keeps its table aliases apart from other nodes'. */
export function nodeSql(index: CatalogIndex, query: ResolvedQuery, node: PlanNode, prefix: string): RawBuilder<unknown> {
  switch (node.kind) {
    case 'aggregate': {
      const scope = buildNodeScope({ index, query, model: index.model(node.model), timeDimension: node.timeDimension, filters: node.filters, offsets: node.offsets, prefix });
      const [first] = node.columns;
      if (node.nonAdditive && first) return semiAdditiveNodeSql(scope, first, node.nonAdditive);
      return aggregateNodeSql(scope, node.columns);
    }
    case 'cumulative': {
      const { model, measure } = index.measure(node.metric.measure);
      const filters = measure.filter ? [...node.filters, measure.filter] : node.filters;
      const timeDimension = measure.timeDimension ?? model.defaultTimeDimension ?? '';
      const scope = buildNodeScope({ index, query, model, timeDimension, filters, offsets: node.offsets, prefix });
      return cumulativeNodeSql(scope, query, node.metric, measure, node.column);
    }
    case 'conversion':
      return conversionSql(index, query, node, prefix);
  }
}

function conversionSql(index: CatalogIndex, query: ResolvedQuery, node: Extract<PlanNode, { kind: 'conversion' }>, prefix: string): RawBuilder<unknown> {
  const side = (input: typeof node.metric.base, filters: typeof node.filters, entityName: string, sidePrefix: string, forQuery: ResolvedQuery) => {
    const { model, measure } = index.measure(input);
    const timeDimension = measure.timeDimension ?? model.defaultTimeDimension ?? '';
    const all = measure.filter ? [...filters, measure.filter] : filters;
    const scope = buildNodeScope({ index, query: forQuery, model, timeDimension, filters: all, offsets: node.offsets, prefix: sidePrefix });
    const column = (name: string) => scope.relation.baseColumn(model.dimensions.find((d) => d.name === name)?.sql ?? name);
    const timeSql = model.dimensions.find((d) => d.name === timeDimension)?.sql ?? timeDimension;
    return { scope, measure, model, entity: column(entityName), time: scope.relation.baseColumn(timeSql) };
  };
  const base = side(node.metric.base, node.filters, node.metric.entity.base, `${prefix}b`, query);
  // Conversion events carry no group-bys or query filters: they take the base event's values.
  const conversionQuery: ResolvedQuery = { ...query, groupBy: [], orderBy: [] };
  const conversion = side(node.metric.conversion, [], node.metric.entity.conversion, `${prefix}c`, conversionQuery);
  const rowKey = conversion.model.primaryKey.map((k) => conversion.scope.relation.baseColumn(k));
  return conversionNodeSql(node.metric, base, { ...conversion, rowKey }, { opportunities: node.opportunities, conversions: node.conversions });
}

