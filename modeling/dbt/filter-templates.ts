import { FilterSyntaxError, type Token } from './filter-lexer.ts';
import { quoteInput } from '../quote-input.ts';

/** What a `{{ ... }}` template names: a dimension (with grain in its name) or a metric by entities. */
export type TemplateRef =
  | { readonly kind: 'dimension'; readonly name: string }
  | { readonly kind: 'metric'; readonly metric: string; readonly groupBy: readonly string[] };

type Arg = { readonly name?: string; readonly value: string | readonly string[] | boolean };

/** Reads tokens of one template body; `take` advances the shared cursor. */
export interface TokenCursor {
  peek(offset?: number): Token | undefined;
  take(expected?: string): Token;
}

function readValue(cursor: TokenCursor): string | readonly string[] | boolean {
  const t = cursor.peek();
  if (t?.text === '[' || t?.text === '(') {
    const close = cursor.take().text === '[' ? ']' : ')';
    const items: string[] = [];
    while (cursor.peek()?.text !== close) {
      const item = cursor.take();
      if (item.kind !== 'string') throw new FilterSyntaxError(`expected a quoted name in a list, found ${quoteInput(item.text)}`, item.at);
      items.push(item.text);
      if (cursor.peek()?.text === ',') cursor.take();
    }
    cursor.take(close);
    return items;
  }
  const value = cursor.take();
  if (value.kind === 'string') return value.text;
  if (value.kind === 'word' && /^(true|false)$/i.test(value.text)) return value.text.toLowerCase() === 'true';
  throw new FilterSyntaxError(`expected a quoted name, found ${quoteInput(value.text)}`, value.at);
}

function readArgs(cursor: TokenCursor): Arg[] {
  cursor.take('(');
  const args: Arg[] = [];
  while (cursor.peek()?.text !== ')') {
    const named = cursor.peek()?.kind === 'word' && cursor.peek(1)?.text === '=' ? cursor.take().text : undefined;
    if (named) cursor.take('=');
    args.push({ ...(named ? { name: named } : {}), value: readValue(cursor) });
    if (cursor.peek()?.text === ',') cursor.take();
  }
  cursor.take(')');
  return args;
}

function arg(args: readonly Arg[], position: number, name: string): Arg['value'] | undefined {
  return args.find((a) => a.name === name)?.value ?? args.filter((a) => !a.name)[position]?.value;
}

function text(value: Arg['value'] | undefined, what: string, at: number): string {
  if (typeof value !== 'string') throw new FilterSyntaxError(`${what} must be a quoted name`, at);
  return value;
}

function withPath(name: string, path: Arg['value'] | undefined): string {
  return Array.isArray(path) && path.length > 0 ? [...path, name].join('__') : name;
}

/**
 * Reads the body of a template (`Dimension('listing__country_latest')`,
 * `TimeDimension('metric_time', 'day')`, `Entity('listing', entity_path=['booking'])`,
 * `Metric('bookings', group_by=['listing'])`, with `.grain('month')` chained) up to `}}`.
 */
export function readTemplate(cursor: TokenCursor): TemplateRef {
  const head = cursor.take();
  const args = readArgs(cursor);
  let ref: TemplateRef;
  let grain: string | undefined;
  switch (head.text) {
    case 'Dimension':
    case 'Entity':
      ref = { kind: 'dimension', name: withPath(text(arg(args, 0, 'name'), `${head.text} name`, head.at), arg(args, 1, 'entity_path')) };
      break;
    case 'TimeDimension': {
      ref = { kind: 'dimension', name: withPath(text(arg(args, 0, 'time_dimension_name'), 'TimeDimension name', head.at), arg(args, 2, 'entity_path')) };
      const g = arg(args, 1, 'time_granularity_name');
      grain = typeof g === 'string' ? g : undefined;
      if (arg(args, 3, 'date_part_name') !== undefined)
        throw new FilterSyntaxError('date_part in a filter is not supported; group by the date part and filter the result instead', head.at);
      break;
    }
    case 'Metric': {
      const groupBy = arg(args, 1, 'group_by');
      if (!Array.isArray(groupBy) || groupBy.length === 0) throw new FilterSyntaxError('Metric(...) needs group_by, a list of entity names', head.at);
      ref = { kind: 'metric', metric: text(arg(args, 0, 'metric_name'), 'Metric name', head.at), groupBy };
      break;
    }
    default:
      throw new FilterSyntaxError(`unknown template ${quoteInput(head.text)}; use Dimension, TimeDimension, Entity or Metric`, head.at);
  }
  while (cursor.peek()?.text === '.') {
    cursor.take('.');
    const method = cursor.take();
    const methodArgs = readArgs(cursor);
    if (method.text === 'grain') grain = text(arg(methodArgs, 0, 'time_granularity_name'), 'grain', method.at);
    else if (method.text === 'descending') continue;
    else throw new FilterSyntaxError(`unsupported method ${quoteInput(method.text)} in a filter; use .grain('...')`, method.at);
  }
  if (grain && ref.kind === 'dimension') ref = { kind: 'dimension', name: `${ref.name}__${grain.toLowerCase()}` };
  return ref;
}
