import type { Filter, FilterOp, Grain } from './types.ts';

/**
 * The filter language as users write it (API.md): leaves compare a dimension, and
 * `and` / `or` / `not` nest freely. `toFilter` turns it into the catalog's tagged form.
 */
export type FilterInput =
  | { readonly and: readonly FilterInput[] }
  | { readonly or: readonly FilterInput[] }
  | { readonly not: FilterInput }
  | { readonly dimension: string; readonly grain?: Grain | null; readonly op: FilterOp; readonly values?: readonly string[] | null };

export const FILTER_OPS: readonly FilterOp[] = [
  'EQ', 'NEQ', 'IN', 'NOT_IN', 'GT', 'GTE', 'LT', 'LTE', 'BETWEEN', 'CONTAINS', 'STARTS_WITH', 'IS_NULL', 'IS_NOT_NULL',
];

export class FilterShapeError extends Error {
  constructor(message: string, readonly path: string) {
    super(message);
  }
}

/** Converts a user-written filter into the tagged form, checking its shape (not its names). */
export function toFilter(input: FilterInput, path = 'where'): Filter {
  const keys = Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined && (input as Record<string, unknown>)[k] !== null);
  if ('and' in input && input.and) return { kind: 'and', filters: nested(input.and, `${path}.and`, keys) };
  if ('or' in input && input.or) return { kind: 'or', filters: nested(input.or, `${path}.or`, keys) };
  if ('not' in input && input.not) {
    onlyKey(keys, 'not', path);
    return { kind: 'not', filter: toFilter(input.not, `${path}.not`) };
  }
  if ('dimension' in input && typeof input.dimension === 'string') {
    const { dimension, op } = input;
    if (!FILTER_OPS.includes(op)) throw new FilterShapeError(`unknown operator ${String(op)}; use one of ${FILTER_OPS.join(', ')}`, path);
    const values = [...(input.values ?? [])];
    checkArity(op, values.length, path);
    return { kind: 'compare', dimension, op, values, ...(input.grain ? { grain: input.grain } : {}) };
  }
  throw new FilterShapeError('a filter needs exactly one of `and`, `or`, `not`, or a `dimension` with an `op`', path);
}

function nested(items: readonly FilterInput[], path: string, keys: string[]): Filter[] {
  onlyKey(keys, path.slice(path.lastIndexOf('.') + 1), path);
  if (items.length === 0) throw new FilterShapeError('needs at least one filter', path);
  return items.map((item, i) => toFilter(item, `${path}[${i}]`));
}

function onlyKey(keys: string[], key: string, path: string): void {
  if (keys.length !== 1) throw new FilterShapeError(`\`${key}\` must stand alone in its filter object (found ${keys.join(', ')})`, path);
}

function checkArity(op: FilterOp, count: number, path: string): void {
  const expected: Partial<Record<FilterOp, [number, number]>> = {
    IS_NULL: [0, 0], IS_NOT_NULL: [0, 0], BETWEEN: [2, 2], IN: [1, Infinity], NOT_IN: [1, Infinity],
  };
  const [min, max] = expected[op] ?? [1, 1];
  if (count < min || count > max) {
    const wanted = min === max ? `${min}` : `at least ${min}`;
    throw new FilterShapeError(`${op} takes ${wanted} value${min === 1 && max === 1 ? '' : 's'}, got ${count}`, path);
  }
}
