import { builder } from './builder.ts';
import { StatusEnum } from './enums.ts';
import { isAllowed } from '../services/authorization.ts';
import { DEFAULT_SENSITIVITY } from '../modeling/catalog/sensitivity.ts';
import type { Dimension, Measure, Metric, Model, ValidityWindow } from '../modeling/catalog/types.ts';
import { metricDimensions, metricLineage, metricTimeDimension, metricType, type MetricLineage } from '../modeling/catalog/describe.ts';

const DimensionRef = builder.objectRef<Dimension>('Dimension').implement({
  description: 'A column a metric can be sliced or filtered by.',
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.string({ description: 'string, number, boolean or time.', resolve: (d) => d.type }),
    description: t.exposeString('description'),
    grain: t.string({ nullable: true, description: 'Finest grain of a time dimension.', resolve: (d) => d.grain ?? null }),
    sensitivity: t.string({
      description: 'public, internal, personal or restricted: callers cleared below it cannot group, filter or order by it.',
      resolve: (d) => d.sensitivity ?? DEFAULT_SENSITIVITY,
    }),
    subDaySensitivity: t.string({
      nullable: true,
      description: 'Time dimensions: the class of its values finer than a day.',
      resolve: (d) => d.subDaySensitivity ?? null,
    }),
  }),
});

const MeasureRef = builder.objectRef<Measure>('Measure').implement({
  description: 'An aggregation over a model’s rows.',
  fields: (t) => ({
    name: t.exposeString('name'),
    aggregation: t.string({ resolve: (m) => m.aggregation }),
    description: t.exposeString('description'),
    sensitivity: t.string({ description: 'public, internal, personal or restricted.', resolve: (m) => m.sensitivity ?? DEFAULT_SENSITIVITY }),
  }),
});

const ValidityWindowRef = builder.objectRef<ValidityWindow>('ValidityWindow').implement({
  description:
    'The two time dimensions bounding each row of a slowly changing dimension: a row is valid from `start` until `end` (exclusive; null while current).',
  fields: (t) => ({
    start: t.exposeString('start'),
    end: t.exposeString('end'),
  }),
});

const ModelRef = builder.objectRef<Model>('Model').implement({
  description: 'A table (or authored SQL) described as dimensions, measures and joins.',
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    owner: t.exposeString('owner'),
    status: t.field({ type: StatusEnum, resolve: (m) => m.status }),
    primaryKey: t.exposeStringList('primaryKey'),
    timeZone: t.exposeString('timeZone'),
    dimensions: t.field({ type: [DimensionRef], resolve: (m) => [...m.dimensions] }),
    measures: t.field({ type: [MeasureRef], resolve: (m) => [...m.measures] }),
    validity: t.field({
      type: ValidityWindowRef,
      nullable: true,
      description: 'Set for a slowly changing dimension: a metric joins the row valid at the time of each of its rows.',
      resolve: (m) => m.validity ?? null,
    }),
  }),
});

const LineageRef = builder.objectRef<MetricLineage>('Lineage').implement({
  description: 'What a metric is computed from.',
  fields: (t) => ({
    models: t.exposeStringList('models'),
    measures: t.exposeStringList('measures', { description: '`model.measure`' }),
    tables: t.stringList({
      nullable: true,
      description: 'Physical tables behind the metric; null unless the caller is an admin.',
      resolve: async (l, _a, ctx) => (isAllowed((await ctx.session()).principal, 'catalog.physical') ? [...l.tables] : null),
    }),
  }),
});

const MetricRef = builder.objectRef<Metric>('Metric').implement({
  description: 'A governed metric: one name, one meaning, one number.',
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.string({
      description: 'SIMPLE, RATIO, DERIVED, CUMULATIVE, SEMI_ADDITIVE (a simple metric over a measure with a non-additive dimension) or CONVERSION.',
      resolve: async (m, _a, ctx) => metricType((await ctx.session()).semantic.index, m),
    }),
    description: t.exposeString('description'),
    owner: t.exposeString('owner'),
    status: t.field({ type: StatusEnum, resolve: (m) => m.status }),
    timeDimension: t.string({ nullable: true, resolve: async (m, _a, ctx) => metricTimeDimension((await ctx.session()).semantic.index, m) }),
    dimensions: t.stringList({
      description: 'Every dimension this metric can be sliced by.',
      resolve: async (m, _a, ctx) => metricDimensions((await ctx.session()).semantic.index, m),
    }),
    lineage: t.field({ type: LineageRef, resolve: async (m, _a, ctx) => metricLineage((await ctx.session()).semantic.index, m) }),
  }),
});

export interface CatalogShape {
  readonly models: readonly Model[];
  readonly metrics: readonly Metric[];
}

export const CatalogRef = builder.objectRef<CatalogShape>('Catalog').implement({
  description: 'Every published definition: models, metrics, tags and events.',
  fields: (t) => ({
    models: t.field({ type: [ModelRef], resolve: (c) => [...c.models] }),
    metrics: t.field({ type: [MetricRef], resolve: (c) => c.metrics.filter((m) => m.status !== 'ARCHIVED') }),
  }),
});

builder.queryField('catalog', (t) =>
  t.field({
    type: CatalogRef,
    description: 'The governed definitions.',
    resolve: async (_r, _a, ctx) => (await ctx.session()).semantic.index.catalog,
  }),
);
