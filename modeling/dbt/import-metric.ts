import type { ConversionMetric, Duration, Filter, Grain, Measure, MeasureInput, Metric, MetricInput } from '../catalog/types.ts';
import { parseExpression } from '../catalog/expression.ts';
import { parseDuration } from '../dsl/define-metric.ts';
import { parseMetricFlowFilter } from './parse-metricflow-filter.ts';
import { describe, EXACT_PERCENTILE_NOTE, grainOf, type ImportedMeasure } from './import-semantic-model.ts';
import { YamlNode } from './yaml-node.ts';

/** What metric import needs to know about the rest of the project. */
export interface MetricContext {
  readonly measures: ReadonlyMap<string, ImportedMeasure>;
  readonly customGrains: ReadonlySet<string>;
  readonly refuse: (at: YamlNode, message: string) => void;
  /** The owner of a definition: its meta `owner`, else its group's owner, else `dbt`. */
  readonly ownerOf: (node: YamlNode) => string;
  /** Adds a measure to a model: a conversion measure with its own filter becomes one. */
  readonly addMeasure: (model: string, measure: Measure) => void;
}

/**
 * Meta of a conversion metric for what MetricFlow's conversion metrics cannot say (written
 * by `strata dbt export`): `base_events` (`all`, `first_ever`, `first_in_period`),
 * `window_min` (a conversion must come later than this) and `same_time_counts` (false: a
 * conversion at the base event's own time does not count, times compared exactly).
 */
export const CONVERSION_META = 'strata_conversion';

/** Thrown inside metric import when the metric asks for something refused (a window in a custom granularity). */
class RefusedInput extends Error {}

/** A filter field (string or list of strings, ANDed) parsed into the closed filter language. */
export function filterOf(node: YamlNode): Filter | undefined {
  // The compiled manifest's form: `{ where_filters: [{ where_sql_template: "..." }] }`.
  if (node.child('where_filters').present)
    return filterOf(
      new YamlNode(
        node
          .child('where_filters')
          .list()
          .map((f) => f.child('where_sql_template').string(true)),
        node.file,
        `${node.path}.where_filters`,
        node.problems,
      ),
    );
  const texts = Array.isArray(node.value) ? node.list().flatMap((n) => n.string() ?? []) : node.present ? [node.string() ?? ''] : [];
  const filters = texts.flatMap((text) => {
    try {
      return [parseMetricFlowFilter(text)];
    } catch (error) {
      return node.problem('INVALID_FILTER', `cannot read filter "${text}": ${(error as Error).message}`) ?? [];
    }
  });
  if (filters.length === 0) return undefined;
  return filters.length === 1 ? filters[0] : { kind: 'and', filters };
}

function both(a: Filter | undefined, b: Filter | undefined): Filter | undefined {
  return a && b ? { kind: 'and', filters: [a, b] } : (a ?? b);
}

function duration(node: YamlNode, context: MetricContext): Duration | undefined {
  const text = node.window();
  if (text === undefined) return undefined;
  const custom = /^\s*(\d+)\s+([a-z_]+)\s*$/i.exec(text);
  if (custom && context.customGrains.has(custom[2] as string)) {
    context.refuse(node, `a window in custom granularity '${custom[2]}' is supported only as a derived metric's offset_window`);
    throw new RefusedInput(text);
  }
  try {
    return parseDuration(text.replace(/\b(nanosecond|microsecond)s?\b/i, 'millisecond'));
  } catch (error) {
    return node.problem('INVALID_WINDOW', (error as Error).message);
  }
}

/** A measure reference: a name, or `{ name, filter, join_to_timespine, fill_nulls_with }`. */
function measureRef(node: YamlNode, context: MetricContext) {
  const named = typeof node.value === 'string' ? node : node.child('name');
  const name = named.string(true);
  if (!name) return undefined;
  const imported = context.measures.get(name);
  if (!imported) return named.problem('UNKNOWN_MEASURE', `no semantic model has a measure '${name}'`);
  const input: MeasureInput = { model: imported.model, measure: name };
  const fill = typeof node.value === 'string' ? undefined : node.child('fill_nulls_with').number();
  const filter = typeof node.value === 'string' ? undefined : filterOf(node.child('filter'));
  const spine = typeof node.value === 'string' ? false : node.child('join_to_timespine').boolean() === true;
  return { input, imported, fill, filter, spine };
}

function metricInput(node: YamlNode, context: MetricContext): MetricInput | undefined {
  const metric = (typeof node.value === 'string' ? node : node.child('name')).string(true);
  if (!metric) return undefined;
  if (typeof node.value === 'string') return { metric };
  const filter = filterOf(node.child('filter'));
  const alias = node.child('alias').string();
  const customText = /^\s*(\d+)\s+([a-z_]+)\s*$/i.exec(node.child('offset_window').window() ?? '');
  const offsetCustom =
    customText && context.customGrains.has(customText[2] as string) ? { count: Number(customText[1]), granularity: customText[2] as string } : undefined;
  const offsetWindow = offsetCustom ? undefined : duration(node.child('offset_window'), context);
  const offsetToGrain = node.child('offset_to_grain').string();
  const toGrain = grainOf(offsetToGrain);
  if (offsetToGrain && !toGrain) node.child('offset_to_grain').problem('INVALID_GRAIN', `unknown grain '${offsetToGrain}'`);
  return {
    metric,
    ...(filter ? { filter } : {}),
    ...(alias ? { alias } : {}),
    ...(offsetWindow ? { offsetWindow } : {}),
    ...(toGrain ? { offsetToGrain: toGrain } : {}),
    ...(offsetCustom ? { offsetCustom } : {}),
  };
}

/**
 * A dbt metric as a catalog metric: simple (with filter, fill_nulls_with, join_to_timespine),
 * ratio, derived (with offsets), cumulative and conversion. Filters are parsed here; names in
 * them are checked when the catalog is built.
 *
 * ```ts
 * const metric = importMetric(node, context);
 * ```
 */
export function importMetric(node: YamlNode, context: MetricContext): Metric | 'refused' | undefined {
  try {
    return importMetricBody(node, context);
  } catch (error) {
    if (error instanceof RefusedInput) return 'refused';
    throw error;
  }
}

function importMetricBody(node: YamlNode, context: MetricContext): Metric | undefined {
  const name = node.child('name').string(true);
  const type = node.child('type').string(true)?.toLowerCase();
  if (!name || !type) return undefined;
  const params = node.child('type_params');
  const grainText = node.child('time_granularity').string();
  const defaultGrain: Grain | undefined = grainOf(grainText);
  const approximate = [params.child('measure'), params.child('conversion_type_params').child('base_measure')].some((m) => {
    const measure = (typeof m.value === 'string' ? m : m.child('name')).string();
    return measure !== undefined && context.measures.get(measure)?.approximate === true;
  });
  const described = describe(node, name);
  const base = {
    name,
    description: approximate ? `${described} (${EXACT_PERCENTILE_NOTE}.)` : described,
    owner: context.ownerOf(node),
    status: 'PUBLISHED' as const,
    ...(node.child('label').string() ? { label: node.child('label').string() as string } : {}),
    ...(defaultGrain ? { defaultGrain } : {}),
  };
  const filter = filterOf(node.child('filter'));
  switch (type) {
    case 'simple': {
      const ref = measureRef(params.child('measure'), context);
      if (!ref) return undefined;
      const combined = both(filter, ref.filter);
      return {
        ...base,
        type: 'SIMPLE',
        measure: ref.input,
        ...(combined ? { filter: combined } : {}),
        ...(ref.fill !== undefined ? { fillNullsWith: ref.fill } : {}),
        ...(ref.spine ? { joinToTimeSpine: true } : {}),
      };
    }
    case 'ratio': {
      const numerator = metricInput(params.child('numerator'), context);
      const denominator = metricInput(params.child('denominator'), context);
      if (!numerator || !denominator) return undefined;
      return { ...base, type: 'RATIO', numerator, denominator, ...(filter ? { filter } : {}) };
    }
    case 'derived':
      return derived(node, params, base, filter, context);
    case 'cumulative':
      return cumulative(params, base, filter, context);
    case 'conversion':
      return conversion(params.child('conversion_type_params'), node.meta(CONVERSION_META), base, filter, context);
    default:
      return node.child('type').problem('INVALID_TYPE', `unknown metric type '${type}'; use simple, ratio, derived, cumulative or conversion`);
  }
}

type Base = Pick<Metric, 'name' | 'description' | 'owner' | 'status' | 'label' | 'defaultGrain'>;

function derived(node: YamlNode, params: YamlNode, base: Base, filter: Filter | undefined, context: MetricContext): Metric | undefined {
  const exprText = params.child('expr').string(true);
  const inputs = params
    .child('metrics')
    .list()
    .flatMap((m) => metricInput(m, context) ?? []);
  if (!exprText) return undefined;
  try {
    return { ...base, type: 'DERIVED', expression: parseExpression(exprText), expressionText: exprText, inputs, ...(filter ? { filter } : {}) };
  } catch (error) {
    return node
      .child('type_params')
      .child('expr')
      .problem('INVALID_EXPRESSION', (error as Error).message);
  }
}

function cumulative(params: YamlNode, base: Base, filter: Filter | undefined, context: MetricContext): Metric | undefined {
  const ref = measureRef(params.child('measure'), context);
  if (!ref) return undefined;
  const cumulativeParams = params.child('cumulative_type_params');
  const window = duration(cumulativeParams.child('window').present ? cumulativeParams.child('window') : params.child('window'), context);
  const toDate = grainOf(cumulativeParams.child('grain_to_date').string() ?? params.child('grain_to_date').string());
  const periodAgg = cumulativeParams.child('period_agg').string()?.toLowerCase();
  if (periodAgg && !['first', 'last', 'average'].includes(periodAgg))
    cumulativeParams.child('period_agg').problem('INVALID_PERIOD_AGG', `unknown period_agg '${periodAgg}'; use first, last or average`);
  const combined = both(filter, ref.filter);
  return {
    ...base,
    type: 'CUMULATIVE',
    measure: ref.input,
    ...(window ? { window } : {}),
    ...(toDate ? { grainToDate: toDate } : {}),
    // `first` is the default (the compiled manifest writes it out).
    ...(periodAgg === 'last' || periodAgg === 'average' ? { periodAgg } : {}),
    ...(combined ? { filter: combined } : {}),
    ...(ref.fill !== undefined ? { fillNullsWith: ref.fill } : {}),
    ...(ref.spine ? { joinToTimeSpine: true } : {}),
  };
}

function conversion(params: YamlNode, meta: YamlNode, base: Base, filter: Filter | undefined, context: MetricContext): ConversionMetric | undefined {
  const baseRef = measureRef(params.child('base_measure'), context);
  const conversionRef = measureRef(params.child('conversion_measure'), context);
  const entity = params.child('entity').string(true);
  if (!baseRef || !conversionRef || !entity) return undefined;
  const window = duration(params.child('window'), context);
  const baseEvents = meta.child('base_events').string() ?? 'all';
  if (baseEvents !== 'all' && baseEvents !== 'first_ever' && baseEvents !== 'first_in_period')
    return meta.child('base_events').problem('INVALID_BASE_EVENTS', `unknown base_events '${baseEvents}'; use all, first_ever or first_in_period`);
  const windowMin = duration(meta.child('window_min'), context);
  const sameTimeCounts = meta.child('same_time_counts').boolean() ?? true;
  // A filter on the conversion measure selects conversion events: served as a measure of its own.
  let conversionInput = conversionRef.input;
  if (conversionRef.filter) {
    const measure: Measure = {
      ...conversionRef.imported.measure,
      name: `${base.name}__conversion_events`,
      description: `Conversion events of metric '${base.name}': measure '${conversionRef.imported.measure.name}' with the conversion_measure filter.`,
      filter: conversionRef.filter,
    };
    context.addMeasure(conversionRef.input.model, measure);
    conversionInput = { model: conversionRef.input.model, measure: measure.name };
  }
  const calculation = params.child('calculation').string()?.toLowerCase() ?? 'conversion_rate';
  if (calculation !== 'conversion_rate' && calculation !== 'conversions')
    return params.child('calculation').problem('INVALID_CALCULATION', `unknown calculation '${calculation}'`);
  const constants = params
    .child('constant_properties')
    .list()
    .flatMap((p) => {
      const b = p.child('base_property').string(true);
      const c = p.child('conversion_property').string(true);
      return b && c ? [{ base: b, conversion: c }] : [];
    });
  const fill = calculation === 'conversions' ? conversionRef.fill : undefined;
  const combined = both(filter, baseRef.filter);
  return {
    ...base,
    type: 'CONVERSION',
    base: baseRef.input,
    conversion: conversionInput,
    entity: { base: entity, conversion: entity },
    window: { ...(windowMin ? { min: windowMin } : {}), ...(window ? { max: window } : {}), ...(sameTimeCounts ? { sameTimeCounts: true } : {}) },
    baseEvents,
    calculation,
    ...(constants.length > 0 ? { constantProperties: constants } : {}),
    ...(combined ? { filter: combined } : {}),
    ...(fill !== undefined ? { fillNullsWith: fill } : {}),
  };
}
