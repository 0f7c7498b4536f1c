import { builder } from './builder.ts';
import { GRAINS, STATUSES } from '../modeling/catalog/types.ts';
import { FILTER_OPS } from '../modeling/catalog/filter-input.ts';

export const GrainEnum = builder.enumType('Grain', {
  description: 'A time grain; DAY and coarser are cut in the reporting time zone, weeks from Monday.',
  values: GRAINS,
});

export const DatePartEnum = builder.enumType('DatePart', {
  description: 'A calendar part of a time dimension: DOW is the ISO day of week, 1 (Monday) to 7.',
  values: ['YEAR', 'QUARTER', 'MONTH', 'WEEK', 'DAY', 'DOW', 'DOY', 'HOUR'] as const,
});

export const FilterOpEnum = builder.enumType('FilterOp', {
  description: 'A comparison; `values` are strings cast to the dimension type.',
  values: FILTER_OPS,
});

export const StatusEnum = builder.enumType('Status', {
  description: 'Lifecycle of a governed definition.',
  values: STATUSES,
});

export const OrderDirectionEnum = builder.enumType('OrderDirection', { values: ['ASC', 'DESC'] as const });
