/** The catalog's saved queries as dbt `saved_queries`: metrics, group_by, where and order_by in MetricFlow's template text. */
import { Inexpressible, lower, type ExportContext, type Yaml } from './export-context.ts';
import { filterText } from './export-filter-text.ts';
import { baseModelOf } from './export-metric-inputs.ts';

export function exportSavedQueries(ctx: ExportContext): Yaml[] {
  const { catalog } = ctx;
  const savedQueries: Yaml[] = [];
  for (const q of catalog.savedQueries ?? []) {
    try {
      const first = catalog.metrics.find((m) => m.name === q.metrics[0]);
      const base = first ? baseModelOf(ctx, first) : undefined;
      const where = q.where ? (base ? filterText(ctx, base, q.where) : undefined) : undefined;
      if (q.where && !where) throw new Inexpressible('its filter names dimensions of no single model');
      savedQueries.push({
        name: q.name,
        description: q.description,
        query_params: {
          metrics: q.metrics,
          group_by: q.groupBy.map((g) => groupByText(g.dimension, g.grain)),
          ...(where ? { where: [where] } : {}),
          ...(q.orderBy.length
            ? {
                order_by: q.orderBy.map((o) => {
                  const item = q.metrics.includes(o.field) ? `Metric('${o.field}')` : groupByText(o.field);
                  return o.direction === 'DESC' ? `${item}.descending(True)` : item;
                }),
              }
            : {}),
          ...(q.limit !== undefined ? { limit: q.limit } : {}),
        },
      });
    } catch (error) {
      if (!(error instanceof Inexpressible)) throw error;
      ctx.note(`saved query ${q.name}: not exported: ${error.message}`);
    }
  }
  return savedQueries;
}

function groupByText(dimension: string, grain?: string): string {
  return grain
    ? `TimeDimension('${dimension}', '${lower(grain)}')`
    : dimension.startsWith('metric_time')
      ? `TimeDimension('${dimension}')`
      : `Dimension('${dimension}')`;
}
