/** A conversion metric's dbt `conversion_type_params`, with the settings MetricFlow lacks kept as Strata meta. */
import type { ConversionMetric, Model } from '../catalog/types.ts';
import { Inexpressible, lower, type ExportContext, type Yaml } from './export-context.ts';
import { entitiesOf } from './export-entities.ts';
import { measureInput, windowText } from './export-metric-inputs.ts';
import { CONVERSION_META } from './import-metric.ts';

/** A metric's `type_params`, its Strata meta, and the comments and notes it adds once written. */
export interface MetricTypeParts {
  readonly typeParams: Yaml;
  readonly meta?: Yaml;
  readonly comments?: readonly string[];
  readonly notes?: readonly string[];
}

export function conversionParts(ctx: ExportContext, metric: ConversionMetric): MetricTypeParts {
  const baseModel = ctx.models.get(metric.base.model) as Model;
  const conversionModel = ctx.models.get(metric.conversion.model) as Model;
  const entityOf = (model: Model, column: string) => {
    const sql = model.dimensions.find((d) => d.name === column)?.sql ?? column;
    return entitiesOf(ctx, model).find((e) => (e.expr ?? e.name) === sql)?.name as string | undefined;
  };
  const entity = entityOf(baseModel, metric.entity.base);
  if (!entity || entityOf(conversionModel, metric.entity.conversion) !== entity)
    throw new Inexpressible(`the conversion entity (${metric.entity.base}) is not an entity of both models`);
  const strata = strataSettings(metric);
  const kept: Pick<MetricTypeParts, 'meta' | 'comments' | 'notes'> = Object.keys(strata).length
    ? {
        meta: { [CONVERSION_META]: strata },
        comments: [
          `Strata counts ${metric.baseEvents === 'all' ? 'every base event' : metric.baseEvents === 'first_ever' ? "each customer's first-ever base event" : "each customer's first base event in the period"}${metric.window.min ? `, conversions later than ${metric.window.min.count} ${lower(metric.window.min.grain)}` : ''}${metric.window.sameTimeCounts ? '' : ', times compared exactly (a conversion at the base event time does not count)'} (meta ${CONVERSION_META}). MetricFlow counts every base event with conversions from its time on, at the time dimension's grain: it would give another number.`,
        ],
        notes: [
          `${metric.name}: conversion settings MetricFlow lacks (${Object.keys(strata).join(', ')}) kept as meta ${CONVERSION_META}; MetricFlow would count every base event`,
        ],
      }
    : {};
  const constants = metric.constantProperties ?? [];
  if (constants.length && constants.some((c) => c.base !== c.conversion)) throw new Inexpressible('constant properties with different names on both sides');
  return {
    typeParams: {
      conversion_type_params: {
        base_measure: measureInput(ctx, metric.base),
        conversion_measure: measureInput(ctx, metric.conversion),
        entity,
        calculation: metric.calculation,
        ...(metric.window.max ? { window: windowText(metric.window.max) } : {}),
        ...(constants.length ? { constant_properties: constants.map((c) => ({ base_property: c.base, conversion_property: c.conversion })) } : {}),
      },
    },
    ...kept,
  };
}

/** The conversion settings Strata serves that MetricFlow has no field for. */
function strataSettings(metric: ConversionMetric): Yaml {
  const strata: Yaml = {};
  if (metric.baseEvents !== 'all') strata.base_events = metric.baseEvents;
  if (metric.window.min) strata.window_min = `${metric.window.min.count} ${lower(metric.window.min.grain)}`;
  if (!metric.window.sameTimeCounts) strata.same_time_counts = false;
  return strata;
}
