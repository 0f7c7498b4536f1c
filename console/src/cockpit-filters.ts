import type { FilterInput, MetricQueryInput } from './generated/strata-console.ts';

/** What the cockpit's pickers change in every metric tile's query. */
export interface CockpitFilters {
  readonly from: string;
  readonly to: string;
  /** A segment: a published tag and one of its values. */
  readonly segment: { readonly tag: string; readonly value: string } | null;
}

/** A metric query with the cockpit's date range and segment applied (the tile's own filter kept). */
export function withFilters(query: MetricQueryInput, filters: CockpitFilters): MetricQueryInput {
  const segment: FilterInput | null = filters.segment ? { dimension: `customer.tag.${filters.segment.tag}`, op: 'EQ', values: [filters.segment.value] } : null;
  const where = segment ? (query.where ? { and: [query.where, segment] } : segment) : query.where;
  const timeRange = filters.from || filters.to ? { from: filters.from || query.timeRange?.from, to: filters.to || query.timeRange?.to } : query.timeRange;
  return { ...query, ...(where ? { where } : {}), ...(timeRange ? { timeRange } : {}) };
}
