/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type ColumnKind =
  | 'DIMENSION'
  | 'METRIC';

/** A calendar part of a time dimension: DOW is the ISO day of week, 1 (Monday) to 7. */
export type DatePart =
  | 'DAY'
  | 'DOW'
  | 'DOY'
  | 'HOUR'
  | 'MONTH'
  | 'QUARTER'
  | 'WEEK'
  | 'YEAR';

/** A leaf (`dimension`, `op`, `values`) or one combinator (`and`, `or`, `not`); a filter nests at most 12 levels deep and holds at most 200 comparisons, each with at most 1,000 values of at most 1,000 characters. */
export type FilterInput = {
  and?: Array<FilterInput> | null | undefined;
  /** `model.dimension`, `metric_time` or `customer.tag.<key>`. */
  dimension?: string | null | undefined;
  /** Compare a time dimension truncated to this grain. */
  grain?: Grain | null | undefined;
  not?: FilterInput | null | undefined;
  op?: FilterOp | null | undefined;
  or?: Array<FilterInput> | null | undefined;
  /** Always strings, cast to the dimension type. */
  values?: Array<string> | null | undefined;
};

/** A comparison; `values` are strings cast to the dimension type. */
export type FilterOp =
  | 'BETWEEN'
  | 'CONTAINS'
  | 'EQ'
  | 'GT'
  | 'GTE'
  | 'IN'
  | 'IS_NOT_NULL'
  | 'IS_NULL'
  | 'LT'
  | 'LTE'
  | 'NEQ'
  | 'NOT_IN'
  | 'STARTS_WITH';

/** A time grain; DAY and coarser are cut in the reporting time zone, weeks from Monday. */
export type Grain =
  | 'DAY'
  | 'HOUR'
  | 'MILLISECOND'
  | 'MINUTE'
  | 'MONTH'
  | 'QUARTER'
  | 'SECOND'
  | 'WEEK'
  | 'YEAR';

export type GroupByInput = {
  datePart?: DatePart | null | undefined;
  /** `model.dimension`, `metric_time`, `customer.tag.<key>`, or a MetricFlow name of an imported dbt project (`metric_time__month`, `listing__country_latest`, `booking__ds__alien_day`, an entity such as `listing`). */
  dimension: string;
  grain?: Grain | null | undefined;
};

export type MetricQueryInput = {
  /** MetricFlow's filter text, e.g. `{{ Dimension('booking__is_instant') }} AND {{ TimeDimension('metric_time', 'day') }} >= '2020-01-02'`; parsed into the closed filter language, never run as SQL; at most 20,000 characters, parentheses and NOT counting as levels of the filter limits. */
  filter?: string | null | undefined;
  groupBy?: Array<GroupByInput> | null | undefined;
  limit?: number | null | undefined;
  /** Metric names; empty with group-bys for the distinct values of the group-bys. */
  metrics: Array<string>;
  offset?: number | null | undefined;
  orderBy?: Array<OrderByInput> | null | undefined;
  /** A saved query of the catalog (dbt saved_queries): its metrics, group-bys, filter, order and limit apply. */
  savedQuery?: string | null | undefined;
  timeRange?: TimeRangeInput | null | undefined;
  where?: FilterInput | null | undefined;
};

export type OrderByInput = {
  direction?: OrderDirection | null | undefined;
  /** A metric name or a group-by (as written or as its column name). */
  field: string;
};

export type OrderDirection =
  | 'ASC'
  | 'DESC';

/** Lifecycle of a governed definition. */
export type Status =
  | 'ARCHIVED'
  | 'DEPRECATED'
  | 'DRAFT'
  | 'IN_REVIEW'
  | 'PUBLISHED';

/** Half-open `[from, to)` in the reporting time zone: `YYYY-MM-DD` or ISO 8601 timestamps. */
export type TimeRangeInput = {
  from?: string | null | undefined;
  to?: string | null | undefined;
};

export type CatalogQueryVariables = Exact<{ [key: string]: never; }>;


export type CatalogQuery = { catalog: { models: Array<{ name: string, description: string, primaryKey: Array<string>, dimensions: Array<{ name: string, type: string, description: string }>, measures: Array<{ name: string, aggregation: string, description: string }> }>, metrics: Array<{ name: string, type: string, description: string, owner: string, status: Status, timeDimension: string | null, dimensions: Array<string>, lineage: { models: Array<string>, measures: Array<string>, tables: Array<string> | null } }> } };

export type MetricQueryQueryVariables = Exact<{
  query: MetricQueryInput;
}>;


export type MetricQueryQuery = { metrics: { rows: Array<unknown>, sql: string | null, columns: Array<{ name: string, kind: ColumnKind, type: string }> } };

export type ServerHealthQueryVariables = Exact<{ [key: string]: never; }>;


export type ServerHealthQuery = { version: string, health: { ok: boolean, engine: string } };


export const CatalogDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Catalog"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"catalog"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"models"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"primaryKey"}},{"kind":"Field","name":{"kind":"Name","value":"dimensions"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"description"}}]}},{"kind":"Field","name":{"kind":"Name","value":"measures"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"aggregation"}},{"kind":"Field","name":{"kind":"Name","value":"description"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"metrics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"owner"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"timeDimension"}},{"kind":"Field","name":{"kind":"Name","value":"dimensions"}},{"kind":"Field","name":{"kind":"Name","value":"lineage"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"models"}},{"kind":"Field","name":{"kind":"Name","value":"measures"}},{"kind":"Field","name":{"kind":"Name","value":"tables"}}]}}]}}]}}]}}]} as unknown as DocumentNode<CatalogQuery, CatalogQueryVariables>;
export const MetricQueryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MetricQuery"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"query"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"MetricQueryInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"metrics"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"query"},"value":{"kind":"Variable","name":{"kind":"Name","value":"query"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"columns"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"type"}}]}},{"kind":"Field","name":{"kind":"Name","value":"rows"}},{"kind":"Field","name":{"kind":"Name","value":"sql"}}]}}]}}]} as unknown as DocumentNode<MetricQueryQuery, MetricQueryQueryVariables>;
export const ServerHealthDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ServerHealth"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"health"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"ok"}},{"kind":"Field","name":{"kind":"Name","value":"engine"}}]}}]}}]} as unknown as DocumentNode<ServerHealthQuery, ServerHealthQueryVariables>;