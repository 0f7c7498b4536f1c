import type { CatalogIndex } from '../../modeling/catalog/catalog-index.ts';
import { metricDimensions, metricLineage, metricTimeDimension, metricType } from '../../modeling/catalog/describe.ts';
import { DEFAULT_SENSITIVITY } from '../../modeling/catalog/sensitivity.ts';
import type { Dimension, Metric, Model } from '../../modeling/catalog/types.ts';
import { cell, codes, page, table } from './markdown.ts';

/**
 * `docs/reference/metrics.md`: every metric with its meaning, governance, lineage and the
 * dimensions that slice it; `source` names what the catalog was generated from.
 */
export function metricsReference(index: CatalogIndex, source: string): string {
  const metrics = [...index.catalog.metrics].filter((m) => m.status !== 'ARCHIVED').sort((a, b) => a.name.localeCompare(b.name));
  const summary = table(
    ['metric', 'type', 'description'],
    metrics.map((m) => [`[\`${m.name}\`](#${m.name})`, metricType(index, m), cell(m.description)]),
  );
  return page('Metrics', source, [
    "Query them with `metrics(query: { metrics: [...] })` (docs/api.md). `metric_time` is each metric's own time dimension; `customer.tag.<key>` slices by a published tag.",
    summary,
    ...metrics.map((m) => metricSection(index, m)),
  ]);
}

function metricSection(index: CatalogIndex, metric: Metric): string {
  const lineage = metricLineage(index, metric);
  const time = metricTimeDimension(index, metric);
  return [
    `## ${metric.name}`,
    metric.description,
    table(['type', 'owner', 'status', 'time dimension'], [[metricType(index, metric), cell(metric.owner), metric.status, time ? `\`${time}\`` : '']]),
    [
      `- Lineage: models ${codes(lineage.models)}; measures ${codes(lineage.measures)}.`,
      `- Sliced and filtered by: ${codes(metricDimensions(index, metric))}.`,
    ].join('\n'),
  ].join('\n\n');
}

/** `docs/reference/models.md`: every model with its dimensions (types, sensitivity), measures and joins. */
export function modelsReference(index: CatalogIndex, source: string): string {
  const models = [...index.catalog.models].sort((a, b) => a.name.localeCompare(b.name));
  return page('Models and dimensions', source, [
    'A dimension is addressed as `model.dimension` from any model that reaches it through many-to-one joins. Its sensitivity ' +
      'class (`public`, `internal`, `personal`, `restricted`) decides who may group, filter or order by it: a caller cleared ' +
      'below it (an analyst is cleared for `internal`) is refused with `FORBIDDEN`. For time dimensions, "finer than a day" ' +
      'is the class of sub-day grains (HOUR and finer).',
    ...models.map(modelSection),
  ]);
}

function sensitivityOf(dimension: Dimension): string {
  const own = dimension.sensitivity ?? DEFAULT_SENSITIVITY;
  return dimension.subDaySensitivity && dimension.subDaySensitivity !== own ? `${own} (finer than a day: ${dimension.subDaySensitivity})` : own;
}

function modelSection(model: Model): string {
  const source = 'table' in model.source ? `\`${model.source.table}\`` : 'SQL written with the model';
  const facts = [
    `- Source: ${source}; primary key ${codes(model.primaryKey)}; time zone \`${model.timeZone}\`` +
      (model.defaultTimeDimension ? `; default time dimension \`${model.defaultTimeDimension}\`.` : '.'),
    `- Owner \`${model.owner}\`, ${model.status}.`,
    ...(model.validity
      ? [
          `- Slowly changing dimension: each row is valid from \`${model.validity.start}\` until \`${model.validity.end}\` (null: still valid); ` +
            'a metric reads the row valid at the time of each of its rows, and grouping by it needs `metric_time` too.',
        ]
      : []),
    ...(model.joins.length > 0
      ? [`- Joins: ${model.joins.map((j) => `\`${j.name}\` → \`${j.model}\` (${j.cardinality.replaceAll('_', '-')})`).join(', ')}.`]
      : []),
  ];
  const dimensions = table(
    ['dimension', 'type', 'grain', 'sensitivity', 'description'],
    model.dimensions.map((d) => [`\`${model.name}.${d.name}\``, d.type, d.grain ?? '', sensitivityOf(d), cell(d.description)]),
  );
  const parts = [`## ${model.name}`, model.description, facts.join('\n'), dimensions];
  if (model.measures.length > 0) {
    parts.push(
      table(
        ['measure', 'aggregation', 'sensitivity', 'description'],
        model.measures.map((m) => [`\`${model.name}.${m.name}\``, m.aggregation, m.sensitivity ?? DEFAULT_SENSITIVITY, cell(m.description)]),
      ),
    );
  }
  return parts.join('\n\n');
}
