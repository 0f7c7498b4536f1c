import type { Catalog, Expression, Measure, MeasureInput, Metric, MetricInput, Model } from '../catalog/types.ts';
import { deepFreeze } from '../catalog/freeze.ts';

import { CONTRIBUTORS } from '../catalog/rollups.ts';

/** Prefix of the hidden members that count contributors; no user-facing name starts with it. */
export { CONTRIBUTORS };

/** The catalog with contributor counts, and which hidden metric counts each metric's (or model's) subjects. */
export interface ContributorCatalog {
  readonly catalog: Catalog;
  /** Metric name -> the hidden metric counting the distinct subjects behind its value (absent: not about subjects). */
  readonly ofMetric: ReadonlyMap<string, string>;
  /** Model name -> the hidden metric counting the distinct subjects of its rows (for distinct-values queries). */
  readonly ofModel: ReadonlyMap<string, string>;
}

/**
 * Adds, for every measure of a model that holds the subject's key (the subject model itself,
 * or a model joined to it many-to-one on its key), a hidden distinct count of subjects over
 * the same rows (same filter, time and semi-additive rule), and for every metric a hidden
 * metric of the same shape counting the subjects behind each of its values: ratios and
 * derived metrics take the smallest count of their inputs, conversions the subjects who
 * converted. Small-cell suppression compares these counts with its threshold. With `floors`,
 * the hidden counts are lower bounds (`Measure.distinctFloor`), 0 exactly when the exact count
 * is: one pass over the rows instead of a hash of every (group, subject) pair, enough to show
 * that every cell reaches the threshold (semantic-layer.ts runs the exact counts otherwise).
 */
export function withContributorCounts(catalog: Catalog, subjectName: string, how: { readonly floors?: boolean } = {}): ContributorCatalog {
  const subject = catalog.models.find((m) => m.name === subjectName);
  const keyOf = new Map<string, string>();
  for (const model of catalog.models) {
    const key = subject ? subjectKey(model, subject) : undefined;
    if (key !== undefined && model.measures.length > 0) keyOf.set(model.name, key);
  }
  const models = catalog.models.map((model) => {
    const key = keyOf.get(model.name);
    if (key === undefined) return model;
    const counts = model.measures.map((m): Measure => countOf(`${CONTRIBUTORS}${m.name}`, key, m, how.floors));
    const rows = countOf(`${CONTRIBUTORS}rows`, key, { timeDimension: model.defaultTimeDimension }, how.floors);
    return { ...model, measures: [...model.measures, ...counts, rows] };
  });
  const ofMetric = new Map<string, string>();
  const byName = new Map(catalog.metrics.map((m) => [m.name, m]));
  const hidden: Metric[] = [];
  const build = (metric: Metric, seen: ReadonlySet<string>): string | undefined => {
    if (ofMetric.has(metric.name)) return ofMetric.get(metric.name);
    if (seen.has(metric.name)) return undefined;
    if (countsSubjects(metric, catalog, keyOf)) {
      // The metric is itself the distinct count of its subjects: it counts them, no hidden twin needed.
      ofMetric.set(metric.name, metric.name);
      return metric.name;
    }
    const counted = contributorMetric(metric, keyOf, (input) => {
      const next = byName.get(input.metric);
      return next ? build(next, new Set([...seen, metric.name])) : undefined;
    });
    if (!counted) return undefined;
    hidden.push(counted);
    ofMetric.set(metric.name, counted.name);
    return counted.name;
  };
  for (const metric of catalog.metrics) build(metric, new Set());
  const ofModel = new Map<string, string>();
  for (const [model] of keyOf) {
    const name = `${CONTRIBUTORS}rows__${model}`;
    hidden.push({ ...governance(name), type: 'SIMPLE', measure: { model, measure: `${CONTRIBUTORS}rows` } });
    ofModel.set(model, name);
  }
  return { catalog: deepFreeze({ ...catalog, models, metrics: [...catalog.metrics, ...hidden] }), ofMetric, ofModel };
}

/** A simple metric over a distinct count of the subject's key: its value is its own contributor count. */
function countsSubjects(metric: Metric, catalog: Catalog, keyOf: ReadonlyMap<string, string>): boolean {
  if (metric.type !== 'SIMPLE' || metric.joinToTimeSpine) return false;
  const measure = catalog.models.find((m) => m.name === metric.measure.model)?.measures.find((m) => m.name === metric.measure.measure);
  return measure?.aggregation === 'count_distinct' && !measure.nonAdditive && measure.sql === keyOf.get(metric.measure.model);
}

/** The column holding the subject's key in a model's rows, when it has one. */
export function subjectKey(model: Model, subject: Model): string | undefined {
  const [key] = subject.primaryKey;
  if (model.name === subject.name) return subject.primaryKey.length === 1 ? key : undefined;
  for (const join of model.joins) {
    if (join.model !== subject.name || join.cardinality === 'one_to_many') continue;
    const pair = join.on.find(([, remote]) => remote === key);
    if (pair && join.on.length === 1) return pair[0];
  }
  return undefined;
}

function countOf(name: string, key: string, like: Pick<Measure, 'timeDimension'> & Partial<Pick<Measure, 'filter' | 'nonAdditive'>>, floor = false): Measure {
  return {
    name,
    aggregation: 'count_distinct',
    sql: key,
    description: 'Distinct subjects behind the value (small-cell protection).',
    ...(floor ? { distinctFloor: true as const } : {}),
    ...(like.filter ? { filter: like.filter } : {}),
    ...(like.timeDimension ? { timeDimension: like.timeDimension } : {}),
    ...(like.nonAdditive ? { nonAdditive: like.nonAdditive } : {}),
  };
}

function governance(name: string) {
  return { name, description: 'Distinct subjects behind a value (small-cell protection).', owner: 'strata', status: 'PUBLISHED' as const };
}

const counted = (input: MeasureInput): MeasureInput => ({ model: input.model, measure: `${CONTRIBUTORS}${input.measure}` });

/** The hidden metric counting the subjects behind `metric`'s values, or undefined when it reads no subject's rows. */
function contributorMetric(metric: Metric, keyOf: ReadonlyMap<string, string>, inputCount: (input: MetricInput) => string | undefined): Metric | undefined {
  const name = `${CONTRIBUTORS}${metric.name}`;
  const base = {
    ...governance(name),
    ...(metric.filter ? { filter: metric.filter } : {}),
    ...(metric.defaultGrain ? { defaultGrain: metric.defaultGrain } : {}),
  };
  switch (metric.type) {
    case 'SIMPLE':
      if (!keyOf.has(metric.measure.model)) return undefined;
      return { ...base, type: 'SIMPLE', measure: counted(metric.measure), ...(metric.joinToTimeSpine ? { joinToTimeSpine: true } : {}) };
    case 'CUMULATIVE': {
      if (!keyOf.has(metric.measure.model)) return undefined;
      const { window, grainToDate, periodAgg } = metric;
      return {
        ...base,
        type: 'CUMULATIVE',
        measure: counted(metric.measure),
        ...(window ? { window } : {}),
        ...(grainToDate ? { grainToDate } : {}),
        ...(periodAgg ? { periodAgg } : {}),
      };
    }
    case 'CONVERSION':
      if (!keyOf.has(metric.base.model) || !keyOf.has(metric.conversion.model)) return undefined;
      return { ...metric, ...base, base: counted(metric.base), conversion: counted(metric.conversion), calculation: 'conversions' };
    case 'RATIO':
    case 'DERIVED': {
      const inputs = (metric.type === 'RATIO' ? [metric.numerator, metric.denominator] : metric.inputs)
        .map((input) => ({ input, count: inputCount(input) }))
        .filter((i): i is { input: MetricInput; count: string } => i.count !== undefined)
        .map(({ input, count }, i): MetricInput => ({ ...input, metric: count, alias: `c${i}` }));
      if (inputs.length === 0) return undefined;
      const least = leastOf(inputs.map((i) => i.alias as string));
      return { ...base, type: 'DERIVED', inputs, expression: least, expressionText: inputs.map((i) => i.alias).join(', ') };
    }
  }
}

/** `LEAST(COALESCE(c0, 0), ...)`: the smallest count of the inputs, a missing one counting 0. */
function leastOf(aliases: readonly string[]): Expression {
  const zeroIfNull = (name: string): Expression => ({
    kind: 'call',
    fn: 'COALESCE',
    args: [
      { kind: 'ref', name },
      { kind: 'number', value: 0 },
    ],
  });
  const args = aliases.map(zeroIfNull);
  return args.length === 1 ? (args[0] as Expression) : { kind: 'call', fn: 'LEAST', args };
}
