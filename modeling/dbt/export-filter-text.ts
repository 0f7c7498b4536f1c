/** Filters as MetricFlow's filter text (`{{ Dimension('customer__channel') }} = 'web'`), dimension names relative to a base model. */
import type { Dimension, Filter, Model } from '../catalog/types.ts';
import { Inexpressible, lower, type ExportContext } from './export-context.ts';
import { primaryEntity } from './export-entities.ts';

const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** A filter as MetricFlow's filter text; throws `Inexpressible` for what it has no form for. */
export function filterText(ctx: ExportContext, base: Model, filter: Filter): string {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return filter.filters.map((f) => `(${filterText(ctx, base, f)})`).join(filter.kind === 'and' ? ' AND ' : ' OR ');
    case 'not':
      return `NOT (${filterText(ctx, base, filter.filter)})`;
    case 'metric': {
      const left = `{{ Metric('${filter.metric}', group_by=[${filter.groupBy.map((g) => `'${g}'`).join(', ')}]) }}`;
      return comparison(left, filter.op, filter.values, 'number');
    }
    default: {
      const name = pathName(ctx, base, filter.dimension);
      const type = typeOf(ctx, base, filter.dimension);
      const left = type === 'time' ? `{{ TimeDimension('${name}'${filter.grain ? `, '${lower(filter.grain)}'` : ''}) }}` : `{{ Dimension('${name}') }}`;
      return comparison(left, filter.op, filter.values, type);
    }
  }
}

/** A catalog dimension reference (`customer.channel`) as a MetricFlow name (`customer__channel`) seen from `base`. */
function pathName(ctx: ExportContext, base: Model, ref: string): string {
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
    const next = join ? ctx.models.get(join.model) : undefined;
    if (!join || !next) throw new Inexpressible(`'${ref}' does not follow joins of ${base.name}`);
    path.push(next.name);
    model = next;
  }
  return [...path, name].join('__');
}

function typeOf(ctx: ExportContext, base: Model, ref: string): Dimension['type'] {
  const steps = ref.split('.');
  if (steps.length > 1 && steps[0] === base.name) steps.shift();
  const name = steps.pop() as string;
  let model: Model | undefined = base;
  for (const step of steps) model = ctx.models.get(model?.joins.find((j) => j.name === step)?.model ?? '');
  return model?.dimensions.find((d) => d.name === name)?.type ?? 'string';
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
