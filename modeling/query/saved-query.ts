import type { Catalog, Grain } from '../catalog/types.ts';
import { StrataError } from '../errors.ts';
import { closestNames } from './suggest.ts';
import type { DatePart, MetricQuery } from './metric-query.ts';
import { quoteInput } from '../quote-input.ts';

/**
 * A query naming a saved query takes the saved metrics, group-bys, filter, order and limit;
 * what the query itself gives is added (group-bys, filter) or takes precedence (order, limit).
 *
 * ```ts
 * expandSavedQuery(catalog, { metrics: [], savedQuery: 'p0_booking' });
 * ```
 */
export function expandSavedQuery(catalog: Catalog, query: MetricQuery): MetricQuery {
  if (!query.savedQuery) return query;
  const saved = (catalog.savedQueries ?? []).find((s) => s.name === query.savedQuery);
  if (!saved) {
    const names = (catalog.savedQueries ?? []).map((s) => s.name);
    const suggestions = closestNames(query.savedQuery, names);
    throw new StrataError(
      'UNKNOWN_MEMBER',
      `unknown saved query ${quoteInput(query.savedQuery)}${suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : ''}`,
      { suggestions },
    );
  }
  const where = saved.where && query.where ? { kind: 'and' as const, filters: [saved.where, query.where] } : (saved.where ?? query.where);
  const groupBy = [
    ...saved.groupBy.map((g) => ({
      dimension: g.dimension,
      ...(g.grain ? { grain: g.grain as Grain } : {}),
      ...(g.datePart ? { datePart: g.datePart as DatePart } : {}),
    })),
    ...(query.groupBy ?? []),
  ];
  const { savedQuery: _name, ...rest } = query;
  const limit = query.limit ?? saved.limit;
  return {
    ...rest,
    metrics: [...saved.metrics, ...query.metrics.filter((m) => !saved.metrics.includes(m))],
    groupBy,
    ...(where ? { where } : {}),
    orderBy: query.orderBy && query.orderBy.length > 0 ? query.orderBy : saved.orderBy,
    ...(limit !== undefined ? { limit } : {}),
  };
}
