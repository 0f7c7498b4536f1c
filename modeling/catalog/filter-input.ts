import { GRAINS, type Filter, type FilterOp, type Grain } from './types.ts';
import { CONDITION_OPS } from './condition.ts';
import { parseCondition } from './parse-condition.ts';

/**
 * The filter language as users write it (API.md): leaves compare a dimension, and
 * `and` / `or` / `not` nest (within `CONDITION_LIMITS`). `toFilter` turns it into the
 * condition AST.
 */
export type FilterInput =
  | { readonly and: readonly FilterInput[] }
  | { readonly or: readonly FilterInput[] }
  | { readonly not: FilterInput }
  | { readonly dimension: string; readonly grain?: Grain | null; readonly op: FilterOp; readonly values?: readonly string[] | null };

export const FILTER_OPS: readonly FilterOp[] = CONDITION_OPS;

/**
 * Converts a user-written filter into the condition AST with the one condition validator
 * (the same limits, operators and arities as rules); BAD_USER_INPUT with the path of the
 * bad node otherwise. Names are checked later, against the catalog.
 *
 * ```ts
 * toFilter({ dimension: 'customer.channel', op: 'EQ', values: ['app'] });
 * // { kind: 'compare', dimension: 'customer.channel', op: 'EQ', values: ['app'] }
 * ```
 */
export function toFilter(input: FilterInput, path = 'where'): Filter {
  return parseCondition(input, { noun: 'filter', path, subjects: ['dimension'], grains: GRAINS }) as Filter;
}
