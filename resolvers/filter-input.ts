import { builder } from './builder.ts';
import { FilterOpEnum, GrainEnum } from './enums.ts';
import type { Filter, FilterOp, Grain } from '../modeling/catalog/types.ts';
import { toFilter, type FilterInput } from '../modeling/catalog/filter-input.ts';
import { conditionLimitsText } from './condition-limits-text.ts';

export interface FilterInputShape {
  and?: FilterInputShape[] | null;
  or?: FilterInputShape[] | null;
  not?: FilterInputShape | null;
  dimension?: string | null;
  grain?: Grain | null;
  op?: FilterOp | null;
  values?: string[] | null;
}

export const FilterInputRef = builder.inputRef<FilterInputShape>('FilterInput').implement({
  description: `A leaf (\`dimension\`, \`op\`, \`values\`) or one combinator (\`and\`, \`or\`, \`not\`); ${conditionLimitsText('filter')}.`,
  fields: (t) => ({
    and: t.field({ type: [FilterInputRef] }),
    or: t.field({ type: [FilterInputRef] }),
    not: t.field({ type: FilterInputRef }),
    dimension: t.string({ description: '`model.dimension`, `metric_time` or `customer.tag.<key>`.' }),
    grain: t.field({ type: GrainEnum, description: 'Compare a time dimension truncated to this grain.' }),
    op: t.field({ type: FilterOpEnum }),
    values: t.stringList({ description: 'Always strings, cast to the dimension type.' }),
  }),
});

/** The GraphQL filter as the closed filter language; shape problems are BAD_USER_INPUT with their path. */
export function filterFromInput(input: FilterInputShape, path = 'where'): Filter {
  return toFilter(input as FilterInput, path);
}
