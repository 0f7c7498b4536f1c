import { Document, isNode } from 'yaml';
import type { Catalog, Dimension, Entity, Filter, Measure, MeasureInput, Metric, MetricInput, Model } from '../catalog/types.ts';
import { CONVERSION_META } from './import-metric.ts';
import { SENSITIVITY_META, STORAGE_META, TIME_ZONE_META, TYPE_META } from './import-semantic-model.ts';

/** What is exported: a catalog, and the domain's tags (which MetricFlow has no place for). */
export interface ExportInput {
  /** The dbt project name (`dbt_project.yml`), a snake_case word. */
  readonly projectName: string;
  readonly catalog: Catalog;
  /** Keys of the domain's tags, served by Strata as dimensions of `subject` (`customer.tag.<key>`). */
  readonly tagKeys?: readonly string[];
  readonly subject?: string;
}

export interface ExportedProject {
  /** Files by path relative to the project folder. */
  readonly files: ReadonlyMap<string, string>;
  /** What MetricFlow cannot express the way Strata serves it, and what the export did about it. */
  readonly notes: readonly string[];
  readonly counts: { readonly models: number; readonly metrics: number; readonly savedQueries: number };
}

type Yaml = Record<string, unknown>;

const AGG: Readonly<Record<Measure['aggregation'], string>> = {
  count: 'count',
  count_distinct: 'count_distinct',
  sum: 'sum',
  sum_boolean: 'sum_boolean',
  avg: 'average',
  min: 'min',
  max: 'max',
  median: 'median',
  percentile: 'percentile',
};

const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;
const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '') || 'owner';
const lower = (grain: string) => grain.toLowerCase();

/** Why a definition cannot be written, to skip it with a note. */
class Inexpressible extends Error {}

/**
 * Writes a catalog as a dbt semantic-layer project in the authoring form: `dbt_project.yml`,
 * a source per schema, one staging model per table (`select * from {{ source(...) }}`),
 * `semantic_models` reading them with `ref()`, `metrics`, `saved_queries` and `groups` (one
 * per owner). What MetricFlow cannot say the way Strata serves it is written as Strata meta
 * where Strata can read it back (`strata_time_zone`, `strata_storage`, `strata_type`,
 * `strata_conversion`), said in YAML comments, and listed in `notes`.
 *
 * ```ts
 * const { files, notes } = exportDbtProject({ projectName: 'strata_wealth', catalog });
 * ```
 */
export function exportDbtProject(input: ExportInput): ExportedProject {
  const { catalog } = input;
  const notes: string[] = [];
  const note = (text: string) => {
    if (!notes.includes(text)) notes.push(text);
  };
  const models = new Map(catalog.models.map((m) => [m.name, m]));
  const tables = new Map<string, { schema: string; table: string }>();
  for (const model of catalog.models) {
    if (!('table' in model.source)) continue;
    const [schema, table] = model.source.table.includes('.') ? model.source.table.split('.') : ['public', model.source.table];
    tables.set(model.name, { schema: schema as string, table: table as string });
  }
  const measureOwners = new Map<string, string[]>();
  for (const model of catalog.models) for (const m of model.measures) measureOwners.set(m.name, [...(measureOwners.get(m.name) ?? []), model.name]);
  const measureName = (model: string, measure: string) => ((measureOwners.get(measure)?.length ?? 0) > 1 ? `${model}_${measure}` : measure);
  const owners = new Map<string, string>();
  const groupOf = (owner: string) => {
    owners.set(slug(owner), owner);
    return slug(owner);
  };

  // ---- entities: one per model (named after it) and one per many-to-one join ----
  const primaryEntity = (model: Model): Yaml | undefined => {
    if (model.validity) {
      const key = model.primaryKey.filter((k) => k !== model.dimensions.find((d) => d.name === model.validity?.start)?.sql);
      return key.length === 1 ? { name: model.name, type: 'natural', expr: key[0] } : undefined;
    }
    return model.primaryKey.length === 1 ? { name: model.name, type: 'primary', expr: model.primaryKey[0] } : undefined;
  };
  const entitiesOf = (model: Model): Yaml[] => {
    const own = primaryEntity(model);
    if (!own && !model.entities?.length)
      note(`${model.name}: its key (${model.primaryKey.join(', ')}) spans several columns; a dbt entity is one expression, so the model has no primary entity`);
    const list: Yaml[] = own ? [own] : [];
    if (model.entities?.length) {
      // Imported from dbt already: its own entities.
      return model.entities.map((e: Entity) => ({ name: e.name, type: e.type, ...(e.sql && e.sql !== e.name ? { expr: e.sql } : {}), ...metaOf(e) }));
    }
    for (const join of model.joins) {
      const target = models.get(join.model);
      if (!target) continue;
      if (join.cardinality === 'one_to_many') continue; // MetricFlow joins from the many side only, as Strata does
      const targetKey = target.validity ? primaryEntity(target)?.expr : target.primaryKey.length === 1 ? target.primaryKey[0] : undefined;
      const pair = join.on[0];
      if (join.on.length !== 1 || !pair || pair[1] !== targetKey) {
        note(`${model.name} -> ${join.model}: a join on ${join.on.map(([a, b]) => `${a} = ${b}`).join(' AND ')} is not on ${join.model}'s key; not exported`);
        continue;
      }
      if (list.some((e) => e.name === join.model)) continue;
      list.push({ name: join.model, type: 'foreign', expr: pair[0] });
    }
    return list;
  };

  // ---- filters as MetricFlow's filter text, dimension names relative to `base` ----
  const pathName = (base: Model, ref: string): string => {
    if (ref === 'metric_time' || ref.startsWith('metric_time__')) return ref;
    if (ref.includes('__')) return ref;
    const steps = ref.split('.');
    // The catalog qualifies a model's own dimensions by its name (`transaction.txn_type`).
    if (steps.length > 1 && steps[0] === base.name) steps.shift();
    if (steps.includes('tag')) throw new Inexpressible(`'${ref}' is a customer tag, which MetricFlow has no dimension for`);
    const name = steps.pop() as string;
    if (steps.length === 0) {
      if (!primaryEntity(base)) throw new Inexpressible(`'${ref}' is a dimension of ${base.name}, which has no single-column entity to name it by`);
      return `${base.name}__${name}`;
    }
    let model = base;
    const path: string[] = [];
    for (const step of steps) {
      const join = model.joins.find((j) => j.name === step);
      const next = join ? models.get(join.model) : undefined;
      if (!join || !next) throw new Inexpressible(`'${ref}' does not follow joins of ${base.name}`);
      path.push(next.name);
      model = next;
    }
    return [...path, name].join('__');
  };
  const typeOf = (base: Model, ref: string): Dimension['type'] => {
    const steps = ref.split('.');
    if (steps.length > 1 && steps[0] === base.name) steps.shift();
    const name = steps.pop() as string;
    let model: Model | undefined = base;
    for (const step of steps) model = models.get(model?.joins.find((j) => j.name === step)?.model ?? '');
    return model?.dimensions.find((d) => d.name === name)?.type ?? 'string';
  };
  const filterText = (base: Model, filter: Filter): string => {
    switch (filter.kind) {
      case 'and':
      case 'or':
        return filter.filters.map((f) => `(${filterText(base, f)})`).join(filter.kind === 'and' ? ' AND ' : ' OR ');
      case 'not':
        return `NOT (${filterText(base, filter.filter)})`;
      case 'metric': {
        const left = `{{ Metric('${filter.metric}', group_by=[${filter.groupBy.map((g) => `'${g}'`).join(', ')}]) }}`;
        return comparison(left, filter.op, filter.values, 'number');
      }
      default: {
        const name = pathName(base, filter.dimension);
        const type = typeOf(base, filter.dimension);
        const left = type === 'time' ? `{{ TimeDimension('${name}'${filter.grain ? `, '${lower(filter.grain)}'` : ''}) }}` : `{{ Dimension('${name}') }}`;
        return comparison(left, filter.op, filter.values, type);
      }
    }
  };

  // ---- semantic models ----
  const semanticModels: Yaml[] = [];
  const zoned = new Map<string, string[]>();
  const modelComments = new Map<number, string>();
  for (const model of catalog.models) {
    const table = tables.get(model.name);
    if (!table) {
      note(`${model.name}: its source is a SQL query, not a table; write it as a dbt model and point a semantic model at it`);
      continue;
    }
    const comments: string[] = [];
    if (model.timeZone !== 'UTC') {
      comments.push(
        `Time grains are cut in ${model.timeZone} (meta ${TIME_ZONE_META}, read by Strata). MetricFlow has no reporting time zone: it cuts days in the warehouse's (UTC).`,
      );
      zoned.set(model.timeZone, [...(zoned.get(model.timeZone) ?? []), model.name]);
    }
    const measures = model.measures.map((m) => exportMeasure(model, m));
    if (model.measures.some((m) => m.filter)) {
      comments.push('Measures here filter their rows in Strata; MetricFlow measures cannot, so each metric reading one carries the filter on its input.');
      note(
        `${model.name}: measure filters (${model.measures
          .filter((m) => m.filter)
          .map((m) => m.name)
          .join(', ')}) written on every metric input that reads them`,
      );
    }
    const defaultTime = model.defaultTimeDimension ?? model.measures.find((m) => m.timeDimension)?.timeDimension;
    semanticModels.push({
      name: model.name,
      description: model.description,
      model: `ref('${table.table}')`,
      config: { group: groupOf(model.owner), ...(model.timeZone !== 'UTC' ? { meta: { [TIME_ZONE_META]: model.timeZone } } : {}) },
      ...(defaultTime && model.measures.length ? { defaults: { agg_time_dimension: defaultTime } } : {}),
      entities: entitiesOf(model),
      dimensions: model.dimensions.map((d) => exportDimension(model, d)),
      ...(measures.length ? { measures } : {}),
    });
    if (comments.length) modelComments.set(semanticModels.length - 1, comments.join('\n'));
  }
  for (const [zone, names] of zoned)
    note(
      `reporting time zone: ${names.join(', ')} cut time grains in ${zone} (kept as meta ${TIME_ZONE_META}); MetricFlow has no reporting time zone and would cut days, weeks and months in UTC`,
    );
  if (input.tagKeys?.length) {
    note(
      `tags: ${input.tagKeys.length} customer tags (${input.tagKeys.slice(0, 5).join(', ')}${input.tagKeys.length > 5 ? ', ...' : ''}) are served by Strata as dimensions ${input.subject ?? 'customer'}.tag.<key>; MetricFlow has no such dimensions, so they are not exported`,
    );
  }

  function exportDimension(model: Model, d: Dimension): Yaml {
    const meta: Yaml = d.sensitivity ? { [SENSITIVITY_META]: d.sensitivity } : {};
    if (d.type === 'number' || d.type === 'boolean') meta[TYPE_META] = d.type;
    if (d.type === 'time' && d.storage && d.storage !== 'timestamp') meta[STORAGE_META] = d.storage;
    if (d.subDaySensitivity) meta.strata_sub_day_sensitivity = d.subDaySensitivity;
    const validity = model.validity?.start === d.name ? { is_start: true } : model.validity?.end === d.name ? { is_end: true } : undefined;
    return {
      name: d.name,
      description: d.description,
      type: d.type === 'time' ? 'time' : 'categorical',
      ...(d.sql !== d.name ? { expr: d.sql } : {}),
      ...(d.isPartition ? { is_partition: true } : {}),
      ...(d.type === 'time' ? { type_params: { time_granularity: lower(d.grain ?? 'DAY'), ...(validity ? { validity_params: validity } : {}) } } : {}),
      ...(Object.keys(meta).length ? { config: { meta } } : {}),
    };
  }

  function exportMeasure(model: Model, m: Measure): Yaml {
    return {
      name: measureName(model.name, m.name),
      description: m.description,
      agg: AGG[m.aggregation],
      ...(m.sql === '*' ? { expr: '1' } : m.sql !== m.name ? { expr: m.sql } : {}),
      ...(m.percentile ? { agg_params: { percentile: m.percentile.fraction, use_discrete_percentile: m.percentile.discrete } } : {}),
      ...(m.timeDimension ? { agg_time_dimension: m.timeDimension } : {}),
      ...(m.nonAdditive
        ? {
            non_additive_dimension: {
              name: m.nonAdditive.dimension,
              window_choice: m.nonAdditive.window,
              ...(m.nonAdditive.groupings.length ? { window_groupings: m.nonAdditive.groupings } : {}),
            },
          }
        : {}),
      ...(m.sensitivity ? { config: { meta: { [SENSITIVITY_META]: m.sensitivity } } } : {}),
    };
  }

  // ---- metrics ----
  const measureInput = (ref: MeasureInput, extra: Yaml = {}): Yaml => {
    const model = models.get(ref.model) as Model;
    const measure = model.measures.find((m) => m.name === ref.measure) as Measure;
    const filter = measure.filter ? filterText(model, measure.filter) : undefined;
    return { name: measureName(model.name, measure.name), ...(filter ? { filter } : {}), ...extra };
  };
  const metricInput = (i: MetricInput, base: Model | undefined): Yaml => {
    const filter = i.filter ? (base ? filterText(base, i.filter) : undefined) : undefined;
    if (i.filter && !filter) throw new Inexpressible(`the filter on input '${i.metric}' names dimensions of no single model`);
    return {
      name: i.metric,
      ...(filter ? { filter } : {}),
      ...(i.alias ? { alias: i.alias } : {}),
      ...(i.offsetWindow ? { offset_window: `${i.offsetWindow.count} ${lower(i.offsetWindow.grain)}${i.offsetWindow.count === 1 ? '' : 's'}` } : {}),
      ...(i.offsetCustom ? { offset_window: `${i.offsetCustom.count} ${i.offsetCustom.granularity}` } : {}),
      ...(i.offsetToGrain ? { offset_to_grain: lower(i.offsetToGrain) } : {}),
    };
  };
  const baseModelOf = (metric: Metric): Model | undefined => {
    switch (metric.type) {
      case 'SIMPLE':
      case 'CUMULATIVE':
        return models.get(metric.measure.model);
      case 'CONVERSION':
        return models.get(metric.base.model);
      default: {
        const inputs = metric.type === 'RATIO' ? [metric.numerator, metric.denominator] : metric.inputs;
        const bases = inputs.map((i) => baseModelOf(catalog.metrics.find((m) => m.name === i.metric) as Metric));
        return bases.every((b) => b === bases[0]) ? bases[0] : undefined;
      }
    }
  };
  const metrics: Yaml[] = [];
  const metricComments = new Map<number, string>();
  let spineNeeded = false;
  for (const metric of catalog.metrics) {
    try {
      const base = baseModelOf(metric);
      const filter = metric.filter ? (base ? filterText(base, metric.filter) : undefined) : undefined;
      if (metric.filter && !filter) throw new Inexpressible('its filter names dimensions of no single model');
      const comments: string[] = [];
      const pending: string[] = [];
      const fill = metric.fillNullsWith !== undefined ? { fill_nulls_with: metric.fillNullsWith } : {};
      let typeParams: Yaml;
      let meta: Yaml | undefined;
      switch (metric.type) {
        case 'SIMPLE':
          typeParams = { measure: measureInput(metric.measure, { ...fill, ...(metric.joinToTimeSpine ? { join_to_timespine: true } : {}) }) };
          break;
        case 'CUMULATIVE':
          spineNeeded = true;
          typeParams = {
            measure: measureInput(metric.measure, { ...fill, ...(metric.joinToTimeSpine ? { join_to_timespine: true } : {}) }),
            cumulative_type_params: {
              ...(metric.window ? { window: `${metric.window.count} ${lower(metric.window.grain)}${metric.window.count === 1 ? '' : 's'}` } : {}),
              ...(metric.grainToDate ? { grain_to_date: lower(metric.grainToDate) } : {}),
              ...(metric.periodAgg ? { period_agg: metric.periodAgg } : {}),
            },
          };
          break;
        case 'RATIO':
          if (metric.fillNullsWith !== undefined) throw new Inexpressible('fill_nulls_with on a ratio metric has no place in MetricFlow');
          typeParams = {
            numerator: metricInput(metric.numerator, baseModelOf(catalog.metrics.find((m) => m.name === metric.numerator.metric) as Metric)),
            denominator: metricInput(metric.denominator, baseModelOf(catalog.metrics.find((m) => m.name === metric.denominator.metric) as Metric)),
          };
          break;
        case 'DERIVED':
          if (metric.fillNullsWith !== undefined) throw new Inexpressible('fill_nulls_with on a derived metric has no place in MetricFlow');
          if (metric.inputs.some((i) => i.offsetWindow || i.offsetToGrain)) spineNeeded = true;
          typeParams = {
            expr: metric.expressionText,
            metrics: metric.inputs.map((i) => metricInput(i, baseModelOf(catalog.metrics.find((m) => m.name === i.metric) as Metric))),
          };
          break;
        case 'CONVERSION': {
          const baseModel = models.get(metric.base.model) as Model;
          const conversionModel = models.get(metric.conversion.model) as Model;
          const entityOf = (model: Model, column: string) => {
            const sql = model.dimensions.find((d) => d.name === column)?.sql ?? column;
            return entitiesOf(model).find((e) => (e.expr ?? e.name) === sql)?.name as string | undefined;
          };
          const entity = entityOf(baseModel, metric.entity.base);
          if (!entity || entityOf(conversionModel, metric.entity.conversion) !== entity)
            throw new Inexpressible(`the conversion entity (${metric.entity.base}) is not an entity of both models`);
          const strata: Yaml = {};
          if (metric.baseEvents !== 'all') strata.base_events = metric.baseEvents;
          if (metric.window.min) strata.window_min = `${metric.window.min.count} ${lower(metric.window.min.grain)}`;
          if (!metric.window.sameTimeCounts) strata.same_time_counts = false;
          if (Object.keys(strata).length) {
            meta = { [CONVERSION_META]: strata };
            comments.push(
              `Strata counts ${metric.baseEvents === 'all' ? 'every base event' : metric.baseEvents === 'first_ever' ? "each customer's first-ever base event" : "each customer's first base event in the period"}${metric.window.min ? `, conversions later than ${metric.window.min.count} ${lower(metric.window.min.grain)}` : ''}${metric.window.sameTimeCounts ? '' : ', times compared exactly (a conversion at the base event time does not count)'} (meta ${CONVERSION_META}). MetricFlow counts every base event with conversions from its time on, at the time dimension's grain: it would give another number.`,
            );
            pending.push(
              `${metric.name}: conversion settings MetricFlow lacks (${Object.keys(strata).join(', ')}) kept as meta ${CONVERSION_META}; MetricFlow would count every base event`,
            );
          }
          if (constantsOf(metric).length && constantsOf(metric).some((c) => c.base !== c.conversion))
            throw new Inexpressible('constant properties with different names on both sides');
          typeParams = {
            conversion_type_params: {
              base_measure: measureInput(metric.base),
              conversion_measure: measureInput(metric.conversion),
              entity,
              calculation: metric.calculation,
              ...(metric.window.max
                ? { window: `${metric.window.max.count} ${lower(metric.window.max.grain)}${metric.window.max.count === 1 ? '' : 's'}` }
                : {}),
              ...(constantsOf(metric).length
                ? { constant_properties: constantsOf(metric).map((c) => ({ base_property: c.base, conversion_property: c.conversion })) }
                : {}),
            },
          };
          break;
        }
      }
      if (metric.status !== 'PUBLISHED') comments.push(`Status in Strata: ${metric.status}.`);
      metrics.push({
        name: metric.name,
        ...(metric.label ? { label: metric.label } : {}),
        description: metric.description,
        type: metric.type.toLowerCase(),
        type_params: typeParams,
        ...(filter ? { filter } : {}),
        ...(metric.defaultGrain ? { time_granularity: lower(metric.defaultGrain) } : {}),
        config: { group: groupOf(metric.owner), ...(meta ? { meta } : {}) },
      });
      if (comments.length) metricComments.set(metrics.length - 1, comments.join('\n'));
      for (const text of pending) note(text);
    } catch (error) {
      if (!(error instanceof Inexpressible)) throw error;
      note(`${metric.name}: not exported: ${error.message}`);
    }
  }
  if (spineNeeded && !catalog.timeSpines?.length)
    note(
      'time spine: MetricFlow needs a time spine model (a `time_spine:` model configuration) for cumulative metrics and offsets; Strata computes them without one, so the project declares none: add one before running it in MetricFlow',
    );

  const groupByText = (dimension: string, grain?: string) =>
    grain
      ? `TimeDimension('${dimension}', '${lower(grain)}')`
      : dimension.startsWith('metric_time')
        ? `TimeDimension('${dimension}')`
        : `Dimension('${dimension}')`;
  const savedQueries: Yaml[] = [];
  for (const q of catalog.savedQueries ?? []) {
    try {
      const first = catalog.metrics.find((m) => m.name === q.metrics[0]);
      const base = first ? baseModelOf(first) : undefined;
      const where = q.where ? (base ? filterText(base, q.where) : undefined) : undefined;
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
      note(`saved query ${q.name}: not exported: ${error.message}`);
    }
  }

  // ---- time spines: a dbt 1.9 `time_spine:` configuration on a model over each spine table ----
  const split = (qualified: string) => {
    const [schema, table] = qualified.includes('.') ? qualified.split('.') : ['public', qualified];
    return { schema: schema as string, table: table as string };
  };
  const spines = (catalog.timeSpines ?? []).map((spine) => ({ spine, ...split(spine.table) }));
  const staged = new Map<string, { schema: string; table: string }>();
  for (const t of [...tables.values(), ...spines]) {
    const known = staged.get(t.table);
    if (known && known.schema !== t.schema)
      note(`${t.schema}.${t.table}: a table of that name in ${known.schema} is exported already; dbt model names are unique`);
    else staged.set(t.table, { schema: t.schema, table: t.table });
  }
  const schemaCount = new Map<string, number>();
  for (const t of staged.values()) schemaCount.set(t.schema, (schemaCount.get(t.schema) ?? 0) + 1);
  const mainSchema = [...schemaCount].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'public';
  const modelEntries: Yaml[] = [...staged.values()].flatMap((t) => {
    const spine = spines.find((s) => s.table === t.table)?.spine;
    if (!spine && t.schema === mainSchema) return [];
    return [
      {
        name: t.table,
        ...(t.schema !== mainSchema ? { config: { schema: t.schema } } : {}),
        ...(spine
          ? {
              time_spine: {
                standard_granularity_column: spine.column,
                ...(spine.customGranularities.length
                  ? {
                      custom_granularities: spine.customGranularities.map((c) => ({ name: c.name, ...(c.column !== c.name ? { column_name: c.column } : {}) })),
                    }
                  : {}),
              },
              columns: [{ name: spine.column, granularity: lower(spine.grain) }, ...spine.customGranularities.map((c) => ({ name: c.column }))],
            }
          : {}),
      },
    ];
  });

  // ---- files ----
  const files = new Map<string, string>();
  const header = (lines: readonly string[]) => `${lines.map((l) => `# ${l}`).join('\n')}\n`;
  files.set(
    'dbt_project.yml',
    header([
      `The ${input.projectName} semantic layer, written by \`strata dbt export\` in dbt's authoring form.`,
      'Each staging model selects a source table unchanged. dbt builds them in your target schema: never',
      `build into ${[...schemaCount.keys()].join(', ')} itself, where the sources live.`,
      'Strata serves ref() from STRATA_DBT_SCHEMA: your target schema after `dbt run`, or the source schema',
      `(${mainSchema}) to read the source tables directly (same names and columns).`,
      ...(schemaCount.size > 1
        ? [
            `Models over tables outside ${mainSchema} configure their schema (models/staging/_staging.yml): Strata reads it as`,
            "written; dbt's default generate_schema_name prefixes your target schema, a custom one may not (then it would",
            'replace the source table: keep the default, or remove those schema configurations before `dbt run`).',
          ]
        : []),
    ]) +
      new Document({
        name: input.projectName,
        version: '1.0.0',
        'config-version': 2,
        profile: input.projectName,
        'model-paths': ['models'],
        models: { [input.projectName]: { '+materialized': 'view' } },
      }).toString({ lineWidth: 0 }),
  );
  const bySchema = new Map<string, string[]>();
  for (const t of staged.values()) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t.table]);
  files.set(
    'models/sources.yml',
    new Document({
      version: 2,
      sources: [...bySchema].map(([schema, list]) => ({ name: schema, schema, tables: [...new Set(list)].map((name) => ({ name })) })),
    }).toString({ lineWidth: 0 }),
  );
  for (const t of staged.values()) files.set(`models/staging/${t.table}.sql`, `select * from {{ source('${t.schema}', '${t.table}') }}\n`);
  if (modelEntries.length) files.set('models/staging/_staging.yml', new Document({ version: 2, models: modelEntries }).toString({ lineWidth: 0 }));
  files.set('models/groups.yml', new Document({ groups: [...owners].map(([name, owner]) => ({ name, owner: { name: owner } })) }).toString({ lineWidth: 0 }));
  files.set('models/semantic_models.yml', withComments({ semantic_models: semanticModels }, 'semantic_models', modelComments, notesHeader(notes)));
  files.set('models/metrics.yml', withComments({ metrics }, 'metrics', metricComments, ''));
  if (savedQueries.length) files.set('models/saved_queries.yml', new Document({ saved_queries: savedQueries }).toString({ lineWidth: 0 }));
  return { files, notes, counts: { models: semanticModels.length, metrics: metrics.length, savedQueries: savedQueries.length } };
}

function constantsOf(metric: Extract<Metric, { type: 'CONVERSION' }>) {
  return metric.constantProperties ?? [];
}

function metaOf(member: { sensitivity?: string }): Yaml {
  return member.sensitivity ? { config: { meta: { [SENSITIVITY_META]: member.sensitivity } } } : {};
}

function comparison(left: string, op: string, values: readonly string[], type: Dimension['type']): string {
  const literal = (v: string) =>
    type === 'number' && /^-?\d+(\.\d+)?$/.test(v) ? v : type === 'boolean' && /^(true|false)$/i.test(v) ? v.toUpperCase() : quoteLiteral(v);
  const [first = '', second = ''] = values;
  switch (op) {
    case 'EQ':
      return `${left} = ${literal(first)}`;
    case 'NEQ':
      return `${left} <> ${literal(first)}`;
    case 'GT':
      return `${left} > ${literal(first)}`;
    case 'GTE':
      return `${left} >= ${literal(first)}`;
    case 'LT':
      return `${left} < ${literal(first)}`;
    case 'LTE':
      return `${left} <= ${literal(first)}`;
    case 'IN':
      return `${left} IN (${values.map(literal).join(', ')})`;
    case 'NOT_IN':
      return `${left} NOT IN (${values.map(literal).join(', ')})`;
    case 'BETWEEN':
      return `${left} BETWEEN ${literal(first)} AND ${literal(second)}`;
    case 'IS_NULL':
      return `${left} IS NULL`;
    case 'IS_NOT_NULL':
      return `${left} IS NOT NULL`;
    case 'STARTS_WITH':
      return `${left} LIKE ${quoteLiteral(`${first.replace(/[%_]/g, '\\$&')}%`)}`;
    default:
      throw new Inexpressible(`the comparison ${op} has no MetricFlow filter form`);
  }
}

function notesHeader(notes: readonly string[]): string {
  if (notes.length === 0) return '';
  return ['What MetricFlow cannot express as Strata serves it (also printed by `strata dbt export`):', ...notes.map((n) => `- ${n}`)].join('\n');
}

/** YAML with a comment before the whole file and before some items of its one list. */
function withComments(body: Yaml, key: string, comments: ReadonlyMap<number, string>, top: string): string {
  const doc = new Document(body);
  if (top) doc.commentBefore = top.replace(/^/gm, ' ');
  for (const [i, text] of comments) {
    const item = doc.getIn([key, i], true);
    if (isNode(item)) item.commentBefore = text.replace(/^/gm, ' ');
  }
  return doc.toString({ lineWidth: 0 });
}
