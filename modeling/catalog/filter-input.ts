import type { Filter, FilterOp, Grain } from './types.ts';
import { conditionLimits, type ConditionLimits } from './condition-limits.ts';

/**
 * The filter language as users write it (API.md): leaves compare a dimension, and
 * `and` / `or` / `not` nest (within `CONDITION_LIMITS`). `toFilter` turns it into the
 * catalog's tagged form.
 */
export type FilterInput =
  | { readonly and: readonly FilterInput[] }
  | { readonly or: readonly FilterInput[] }
  | { readonly not: FilterInput }
  | { readonly dimension: string; readonly grain?: Grain | null; readonly op: FilterOp; readonly values?: readonly string[] | null };

export const FILTER_OPS: readonly FilterOp[] = [
  'EQ',
  'NEQ',
  'IN',
  'NOT_IN',
  'GT',
  'GTE',
  'LT',
  'LTE',
  'BETWEEN',
  'CONTAINS',
  'STARTS_WITH',
  'IS_NULL',
  'IS_NOT_NULL',
];

export class FilterShapeError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/**
 * Converts a user-written filter into the tagged form, checking its shape and size (not its
 * names): at most `CONDITION_LIMITS.maxDepth` levels, `maxComparisons` comparisons, and
 * `maxValues` values of `maxValueLength` characters per comparison.
 */
export function toFilter(input: FilterInput, path = 'where'): Filter {
  return read(input, path, 0, conditionLimits('filter'));
}

function read(input: FilterInput, path: string, depth: number, limits: ConditionLimits): Filter {
  const tooDeep = limits.depth(depth);
  if (tooDeep) throw new FilterShapeError(tooDeep.message, path);
  const record = input as Record<string, unknown>;
  const keys = Object.keys(input).filter((k) => record[k] !== undefined && record[k] !== null);
  if ('and' in input && input.and) return { kind: 'and', filters: nested(input.and, `${path}.and`, keys, depth, limits) };
  if ('or' in input && input.or) return { kind: 'or', filters: nested(input.or, `${path}.or`, keys, depth, limits) };
  if ('not' in input && input.not) {
    onlyKey(keys, 'not', path);
    return { kind: 'not', filter: read(input.not, `${path}.not`, depth + 1, limits) };
  }
  if ('dimension' in input && typeof input.dimension === 'string') {
    const { dimension, op } = input;
    if (!FILTER_OPS.includes(op)) throw new FilterShapeError(`unknown operator ${String(op).slice(0, 20)}; use one of ${FILTER_OPS.join(', ')}`, path);
    const tooMany = limits.comparison();
    if (tooMany) throw new FilterShapeError(tooMany.message, path);
    const values = [...(input.values ?? [])];
    const tooBig = limits.values(values);
    if (tooBig) throw new FilterShapeError(tooBig.message, `${path}.values${tooBig.valueIndex === undefined ? '' : `[${tooBig.valueIndex}]`}`);
    checkArity(op, values.length, path);
    return { kind: 'compare', dimension, op, values, ...(input.grain ? { grain: input.grain } : {}) };
  }
  throw new FilterShapeError('a filter needs exactly one of `and`, `or`, `not`, or a `dimension` with an `op`', path);
}

function nested(items: readonly FilterInput[], path: string, keys: string[], depth: number, limits: ConditionLimits): Filter[] {
  onlyKey(keys, path.slice(path.lastIndexOf('.') + 1), path);
  if (items.length === 0) throw new FilterShapeError('needs at least one filter', path);
  return items.map((item, i) => read(item, `${path}[${i}]`, depth + 1, limits));
}

function onlyKey(keys: string[], key: string, path: string): void {
  if (keys.length !== 1) throw new FilterShapeError(`\`${key}\` must stand alone in its filter object (found ${keys.join(', ')})`, path);
}

function checkArity(op: FilterOp, count: number, path: string): void {
  const expected: Partial<Record<FilterOp, [number, number]>> = {
    IS_NULL: [0, 0],
    IS_NOT_NULL: [0, 0],
    BETWEEN: [2, 2],
    IN: [1, Infinity],
    NOT_IN: [1, Infinity],
  };
  const [min, max] = expected[op] ?? [1, 1];
  if (count < min || count > max) {
    const wanted = min === max ? `${min}` : `at least ${min}`;
    throw new FilterShapeError(`${op} takes ${wanted} value${min === 1 && max === 1 ? '' : 's'}, got ${count}`, path);
  }
}
