import type { Catalog, Metric, Model, MeasureInput } from './types.ts';
import { GRAINS } from './types.ts';
import { checkGovernance, isIdentifier } from './vocabulary.ts';
import { referencedNames } from './expression.ts';
import { inputMetrics, leafMeasures } from './lineage.ts';
import { checkFilter, definitionsIndex } from './validate-models.ts';
import { memberOf } from './locate-dimension.ts';
import type { CatalogIndex } from './catalog-index.ts';
import type { ProblemCollector } from './validation-error.ts';

const METRIC_TYPES = ['SIMPLE', 'RATIO', 'DERIVED', 'CUMULATIVE', 'CONVERSION'];

/** Checks every metric's references, filters and governance, and finds circular derivations. */
export function validateMetrics(catalog: Catalog, models: ReadonlyMap<string, Model>, problems: ProblemCollector): void {
  const metrics = catalog.metrics;
  const index = definitionsIndex(catalog);
  const byName = new Map<string, Metric>();
  for (const metric of metrics) {
    const path = `metrics.${metric.name}`;
    if (!isIdentifier(metric.name)) problems.add(path, 'INVALID_NAME', `metric name '${metric.name}' must be a snake_case identifier`);
    if (byName.has(metric.name)) problems.add(path, 'DUPLICATE_NAME', `metric '${metric.name}' is defined twice`);
    byName.set(metric.name, metric);
    if ((metric.type as string) === 'SEMI_ADDITIVE')
      problems.add(
        `${path}.type`,
        'INVALID_TYPE',
        'SEMI_ADDITIVE is not a metric type: use SIMPLE over a measure with nonAdditive (the measure says how it adds up)',
      );
    else if (!METRIC_TYPES.includes(metric.type)) problems.add(`${path}.type`, 'INVALID_TYPE', `unknown metric type '${metric.type}'`);
    checkGovernance(metric, path, problems);
  }
  for (const metric of metrics) {
    const path = `metrics.${metric.name}`;
    checkMeasures(metric, models, path, problems);
    for (const name of inputMetrics(metric)) {
      if (!byName.has(name)) problems.add(path, 'UNKNOWN_METRIC', `input metric '${name}' is not defined`);
    }
    if (metric.type === 'DERIVED') {
      const names = new Set(metric.inputs.map((i) => i.alias ?? i.metric));
      for (const ref of referencedNames(metric.expression)) {
        if (!names.has(ref))
          problems.add(`${path}.expression`, 'UNKNOWN_METRIC', `'${ref}' in '${metric.expressionText}' is not one of the inputs (${[...names].join(', ')})`);
      }
    }
    if (metric.type === 'CUMULATIVE' && metric.window && metric.grainToDate) {
      problems.add(path, 'INVALID_METRIC', 'a cumulative metric takes a window or grainToDate, not both');
    }
    checkMetricFilters(metric, index, byName, path, problems);
  }
  findCircularMetrics(metrics, byName, problems);
}

function measureOf(input: MeasureInput, models: ReadonlyMap<string, Model>) {
  return models.get(input.model)?.measures.find((m) => m.name === input.measure);
}

function checkMeasures(metric: Metric, models: ReadonlyMap<string, Model>, path: string, problems: ProblemCollector): void {
  const inputs: [string, MeasureInput][] =
    metric.type === 'CONVERSION'
      ? [
          ['base', metric.base],
          ['conversion', metric.conversion],
        ]
      : 'measure' in metric
        ? [['measure', metric.measure]]
        : [];
  for (const [role, input] of inputs) {
    if (!measureOf(input, models)) problems.add(`${path}.${role}`, 'UNKNOWN_MEASURE', `no measure '${input.measure}' in model '${input.model}'`);
  }
  if (metric.type === 'CONVERSION') {
    const baseModel = models.get(metric.base.model);
    const conversionModel = models.get(metric.conversion.model);
    const base = baseModel && memberOf(baseModel, metric.entity.base);
    const conversion = conversionModel && memberOf(conversionModel, metric.entity.conversion);
    for (const pair of metric.constantProperties ?? []) {
      if (baseModel && !memberOf(baseModel, pair.base))
        problems.add(`${path}.constantProperties`, 'UNKNOWN_MEMBER', `'${metric.base.model}' has no dimension or entity '${pair.base}'`);
      if (conversionModel && !memberOf(conversionModel, pair.conversion))
        problems.add(`${path}.constantProperties`, 'UNKNOWN_MEMBER', `'${metric.conversion.model}' has no dimension or entity '${pair.conversion}'`);
    }
    if (!base) problems.add(`${path}.entity.base`, 'UNKNOWN_MEMBER', `'${metric.base.model}' has no dimension '${metric.entity.base}'`);
    if (!conversion) problems.add(`${path}.entity.conversion`, 'UNKNOWN_MEMBER', `'${metric.conversion.model}' has no dimension '${metric.entity.conversion}'`);
    if (base && conversion && base.type !== conversion.type) {
      problems.add(`${path}.entity`, 'TYPE_MISMATCH', `entity columns differ in type: ${base.type} and ${conversion.type}`);
    }
    for (const bound of [metric.window.min, metric.window.max]) {
      if (bound && (!GRAINS.includes(bound.grain) || bound.count < 0))
        problems.add(`${path}.window`, 'INVALID_METRIC', 'window bounds need a non-negative count and a grain');
    }
  }
}

function checkMetricFilters(metric: Metric, index: CatalogIndex, metrics: ReadonlyMap<string, Metric>, path: string, problems: ProblemCollector): void {
  const filters = [
    ...(metric.filter ? [[metric.filter, `${path}.filter`] as const] : []),
    ...(metric.type === 'RATIO' ? [metric.numerator, metric.denominator] : metric.type === 'DERIVED' ? metric.inputs : []).flatMap((input, i) =>
      input.filter ? [[input.filter, `${path}.inputs[${i}].filter`] as const] : [],
    ),
  ];
  if (filters.length === 0) return;
  const leaves = metric.type === 'CONVERSION' ? [metric.base] : leafMeasures(metric, metrics);
  for (const leaf of leaves) {
    const model = index.models.get(leaf.model);
    if (!model) continue;
    for (const [filter, at] of filters) checkFilter(filter, model, index, at, problems);
  }
}

function findCircularMetrics(metrics: readonly Metric[], byName: ReadonlyMap<string, Metric>, problems: ProblemCollector): void {
  const state = new Map<string, 'open' | 'done'>();
  const reported = new Set<string>();
  const visit = (metric: Metric, trail: string[]): void => {
    state.set(metric.name, 'open');
    for (const name of inputMetrics(metric)) {
      const input = byName.get(name);
      if (!input) continue;
      if (state.get(name) === 'open') {
        const cycle = [...trail.slice(trail.indexOf(name)), metric.name, name];
        const key = [...new Set(cycle)].sort().join(',');
        if (!reported.has(key)) problems.add(`metrics.${metric.name}`, 'CIRCULAR_METRIC', `metrics depend on each other in a circle: ${cycle.join(' -> ')}`);
        reported.add(key);
      } else if (!state.has(name)) visit(input, [...trail, metric.name]);
    }
    state.set(metric.name, 'done');
  };
  for (const metric of metrics) if (!state.has(metric.name)) visit(metric, []);
}
