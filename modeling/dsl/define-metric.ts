import type { ConversionMetric, Duration, Grain, Metric, MetricInput, Status } from '../catalog/types.ts';
import { GRAINS } from '../catalog/types.ts';
import { toFilter, type FilterInput } from '../catalog/filter-input.ts';
import { parseExpression } from '../catalog/expression.ts';
import { deepFreeze } from '../catalog/freeze.ts';

interface MetricSpecBase {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly status?: Status;
  readonly label?: string;
  readonly filter?: FilterInput;
  readonly fillNullsWith?: number;
}

/** `model.measure` */
type MeasureRef = string;
/** A metric name, or an input with its own filter, alias or offset (`'7 days'`). */
type MetricInputSpec = string | { readonly metric: string; readonly filter?: FilterInput; readonly alias?: string; readonly offsetWindow?: string };

export type MetricSpec =
  | (MetricSpecBase & { readonly type: 'SIMPLE'; readonly measure: MeasureRef })
  | (MetricSpecBase & { readonly type: 'RATIO'; readonly numerator: MetricInputSpec; readonly denominator: MetricInputSpec })
  | (MetricSpecBase & { readonly type: 'DERIVED'; readonly expression: string; readonly inputs: readonly MetricInputSpec[] })
  | (MetricSpecBase & {
      readonly type: 'CUMULATIVE';
      readonly measure: MeasureRef;
      readonly window?: string;
      readonly grainToDate?: Grain;
      readonly periodAgg?: 'first' | 'last' | 'average';
    })
  | (MetricSpecBase & {
      readonly type: 'CONVERSION';
      readonly base: MeasureRef;
      readonly conversion: MeasureRef;
      /** The entity column in each model, e.g. `{ base: 'customer_id', conversion: 'customer_id' }`. */
      readonly entity: { readonly base: string; readonly conversion: string };
      /** `'1 day'`, or a range `{ min: '1 day', max: '7 days' }`: conversions count within (min, max] after the base event. */
      readonly window?: string | { readonly min?: string; readonly max?: string };
      readonly baseEvents?: ConversionMetric['baseEvents'];
      readonly calculation?: ConversionMetric['calculation'];
    });

/** Parses `'7 days'`, `'1 month'`, `'24 hours'` into a count and grain. */
export function parseDuration(text: string): Duration {
  const m = /^\s*(\d+)\s+([a-z]+?)s?\s*$/i.exec(text);
  const grain = m?.[2]?.toUpperCase() as Grain | undefined;
  if (!m || !grain || !GRAINS.includes(grain)) throw new Error(`'${text}' is not a duration like '7 days' or '1 month'`);
  return { count: Number(m[1]), grain };
}

function measureRef(ref: MeasureRef): { model: string; measure: string } {
  const [model = '', measure = ''] = ref.split('.');
  return { model, measure };
}

function metricInput(spec: MetricInputSpec, path: string): MetricInput {
  if (typeof spec === 'string') return { metric: spec };
  return {
    metric: spec.metric,
    ...(spec.filter ? { filter: toFilter(spec.filter, `${path}.filter`) } : {}),
    ...(spec.alias ? { alias: spec.alias } : {}),
    ...(spec.offsetWindow ? { offsetWindow: parseDuration(spec.offsetWindow) } : {}),
  };
}

/**
 * Defines a metric as frozen catalog data; `buildCatalog` checks its references.
 *
 * ```ts
 * const ctr = defineMetric({
 *   name: 'placement_ctr', type: 'RATIO', numerator: 'placement_clicks', denominator: 'placement_impressions',
 *   description: 'Clicks per impression', owner: 'growth-analytics',
 * });
 * ```
 */
export function defineMetric(spec: MetricSpec): Metric {
  const path = `metrics.${spec.name}`;
  const base = {
    name: spec.name,
    description: spec.description,
    owner: spec.owner,
    status: spec.status ?? 'PUBLISHED',
    ...(spec.label ? { label: spec.label } : {}),
    ...(spec.filter ? { filter: toFilter(spec.filter, `${path}.filter`) } : {}),
    ...(spec.fillNullsWith !== undefined ? { fillNullsWith: spec.fillNullsWith } : {}),
  };
  const metric: Metric = (() => {
    switch (spec.type) {
      case 'SIMPLE':
        return { ...base, type: 'SIMPLE', measure: measureRef(spec.measure) };
      case 'RATIO':
        return {
          ...base,
          type: 'RATIO',
          numerator: metricInput(spec.numerator, `${path}.numerator`),
          denominator: metricInput(spec.denominator, `${path}.denominator`),
        };
      case 'DERIVED':
        return {
          ...base,
          type: 'DERIVED',
          expression: parseExpression(spec.expression),
          expressionText: spec.expression,
          inputs: spec.inputs.map((input, i) => metricInput(input, `${path}.inputs[${i}]`)),
        };
      case 'CUMULATIVE':
        return {
          ...base,
          type: 'CUMULATIVE',
          measure: measureRef(spec.measure),
          ...(spec.window ? { window: parseDuration(spec.window) } : {}),
          ...(spec.grainToDate ? { grainToDate: spec.grainToDate } : {}),
          ...(spec.periodAgg ? { periodAgg: spec.periodAgg } : {}),
        };
      case 'CONVERSION': {
        const window = typeof spec.window === 'string' ? { max: spec.window } : (spec.window ?? {});
        return {
          ...base,
          type: 'CONVERSION',
          base: measureRef(spec.base),
          conversion: measureRef(spec.conversion),
          entity: { ...spec.entity },
          window: {
            ...(window.min ? { min: parseDuration(window.min) } : {}),
            ...(window.max ? { max: parseDuration(window.max) } : {}),
          },
          baseEvents: spec.baseEvents ?? 'all',
          calculation: spec.calculation ?? 'conversion_rate',
        };
      }
    }
  })();
  return deepFreeze(metric);
}
