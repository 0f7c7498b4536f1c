import { builder, type MetricRow } from './builder.ts';
import { DatePartEnum, GrainEnum, OrderDirectionEnum } from './enums.ts';
import { FilterInputRef, filterFromInput, type FilterInputShape } from './filter-input.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import type { Freshness, ProtectedResult } from '../modeling/semantic-layer.ts';
import type { ResultColumn } from '../modeling/plan/compile-metric-query.ts';
import type { Filter } from '../modeling/catalog/types.ts';
import { parseMetricFlowFilter } from '../modeling/dbt/parse-metricflow-filter.ts';
import { FilterSyntaxError } from '../modeling/dbt/filter-lexer.ts';
import { StrataError } from '../modeling/errors.ts';
import { CONDITION_LIMITS } from '../modeling/catalog/condition-limits.ts';
import { planSources } from '../modeling/plan/explain-plan.ts';
import { isAllowed } from '../services/authorization.ts';

/** `where` (structured) and `filter` (MetricFlow text) together: both must hold. */
function whereOf(where: FilterInputShape | null | undefined, filter: string | null | undefined): { where: Filter } | undefined {
  const parts: Filter[] = [];
  if (where) parts.push(filterFromInput(where));
  if (filter) {
    try {
      parts.push(parseMetricFlowFilter(filter));
    } catch (error) {
      if (error instanceof FilterSyntaxError) throw new StrataError('BAD_USER_INPUT', `filter: ${error.message}`, { at: error.at });
      throw error;
    }
  }
  if (parts.length === 0) return undefined;
  return { where: parts.length === 1 ? (parts[0] as Filter) : { kind: 'and', filters: parts } };
}

export const GroupByInput = builder.inputType('GroupByInput', {
  fields: (t) => ({
    dimension: t.string({
      required: true,
      description:
        '`model.dimension`, `metric_time`, `customer.tag.<key>`, or a MetricFlow name of an imported dbt project (`metric_time__month`, `listing__country_latest`, `booking__ds__alien_day`, an entity such as `listing`).',
    }),
    grain: t.field({ type: GrainEnum }),
    datePart: t.field({ type: DatePartEnum }),
  }),
});

export const TimeRangeInput = builder.inputType('TimeRangeInput', {
  description: 'Half-open `[from, to)` in the reporting time zone: `YYYY-MM-DD` or ISO 8601 timestamps.',
  fields: (t) => ({ from: t.string(), to: t.string() }),
});

const OrderByInput = builder.inputType('OrderByInput', {
  fields: (t) => ({
    field: t.string({ required: true, description: 'A metric name or a group-by (as written or as its column name).' }),
    direction: t.field({ type: OrderDirectionEnum }),
  }),
});

const MetricQueryInput = builder.inputType('MetricQueryInput', {
  fields: (t) => ({
    metrics: t.stringList({ required: true, description: 'Metric names; empty with group-bys for the distinct values of the group-bys.' }),
    filter: t.string({
      description: `MetricFlow's filter text, e.g. \`{{ Dimension('booking__is_instant') }} AND {{ TimeDimension('metric_time', 'day') }} >= '2020-01-02'\`; parsed into the closed filter language, never run as SQL; at most ${CONDITION_LIMITS.maxFilterTextLength.toLocaleString('en-US')} characters, parentheses and NOT counting as levels of the filter limits.`,
    }),
    savedQuery: t.string({ description: 'A saved query of the catalog (dbt saved_queries): its metrics, group-bys, filter, order and limit apply.' }),
    groupBy: t.field({ type: [GroupByInput] }),
    where: t.field({ type: FilterInputRef }),
    timeRange: t.field({ type: TimeRangeInput }),
    orderBy: t.field({ type: [OrderByInput] }),
    limit: t.int(),
    offset: t.int(),
    useRollups: t.boolean({
      description:
        'Default true: a query a declared rollup covers is answered from its precomputed rows (`plan.rollup` names it) when they are fresh; false reads the raw tables.',
    }),
  }),
});

const FreshnessSourceEnum = builder.enumType('FreshnessSource', {
  values: { ROLLUP: { description: "A rollup's precomputed rows answered." }, RAW: { description: 'The raw tables answered.' } } as const,
});

export const FreshnessRef = builder.objectRef<Freshness>('Freshness').implement({
  description: 'How fresh the data answering a metric query (or a funnel) is.',
  fields: (t) => ({
    source: t.field({ type: FreshnessSourceEnum, resolve: (f) => f.source }),
    rollup: t.string({ nullable: true, description: 'The rollup that answered (ROLLUP only).', resolve: (f) => f.rollup ?? null }),
    asOf: t.string({
      description: "ISO 8601: when the rows answering were computed: the oldest refresh of the rollup's periods read, or the time of the query for raw tables.",
      resolve: (f) => f.asOf,
    }),
    stale: t.boolean({
      description: "Some period read changed since the rollup's rows were computed (only for a rollup whose policy serves stale rows).",
      resolve: (f) => f.stale,
    }),
  }),
});

const ColumnKindEnum = builder.enumType('ColumnKind', { values: ['DIMENSION', 'METRIC'] as const });

const ResultColumnRef = builder.objectRef<ResultColumn>('ResultColumn').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    kind: t.field({ type: ColumnKindEnum, resolve: (c) => c.kind }),
    type: t.exposeString('type', { description: 'string, number, boolean, date (YYYY-MM-DD) or timestamp.' }),
  }),
});

const MetricQueryResultRef = builder.objectRef<ProtectedResult & { showSql: boolean; sources?: Record<string, string> }>('MetricQueryResult').implement({
  fields: (t) => ({
    columns: t.field({ type: [ResultColumnRef], resolve: (r) => [...r.columns] }),
    rows: t.field({ type: ['MetricRow'], description: 'One object per row, keyed by column name.', resolve: (r) => r.rows as MetricRow[] }),
    sql: t.string({ nullable: true, description: 'The SQL that ran; null unless the caller may see it.', resolve: (r) => (r.showSql ? r.sql : null) }),
    plan: t.field({
      type: 'JSON',
      description:
        "How the numbers are computed, as data: the query as resolved, each aggregation node (kind, model, measures, time dimension and grain, filters, joins, offsets, non-additive dimension), each metric's value over node columns, the rewrites applied and the metrics filtered on. Catalog names only; `sources` (admins only) gives each model's physical table. `strata explain` prints the same plan.",
      resolve: (r) => (r.sources ? { ...r.plan, sources: r.sources } : r.plan),
    }),
    freshness: t.field({ type: FreshnessRef, description: 'Where the answer came from and when its data was computed.', resolve: (r) => r.freshness }),
    suppressedRows: t.intList({
      description:
        'Indexes (from 0) of the rows whose metric values are null because they count fewer customers than the privacy threshold (callers without personal clearance).',
      resolve: (r) => [...r.suppressedRows],
    }),
  }),
});

builder.queryField('metrics', (t) =>
  t.field({
    type: MetricQueryResultRef,
    description: 'Metrics sliced by dimensions, filtered and ordered: one SQL statement per query.',
    args: { query: t.arg({ type: MetricQueryInput, required: true }) },
    resolve: async (_root, { query }, { session, analytics }) => {
      const { semantic, canSeeSql, access, principal } = await session();
      const metricQuery: MetricQuery = {
        metrics: query.metrics,
        ...(query.groupBy
          ? {
              groupBy: query.groupBy.map((g) => ({
                dimension: g.dimension,
                ...(g.grain ? { grain: g.grain } : {}),
                ...(g.datePart ? { datePart: g.datePart } : {}),
              })),
            }
          : {}),
        ...(whereOf(query.where, query.filter) ?? {}),
        ...(query.savedQuery ? { savedQuery: query.savedQuery } : {}),
        ...(query.timeRange
          ? { timeRange: { ...(query.timeRange.from ? { from: query.timeRange.from } : {}), ...(query.timeRange.to ? { to: query.timeRange.to } : {}) } }
          : {}),
        ...(query.orderBy ? { orderBy: query.orderBy.map((o) => ({ field: o.field, direction: o.direction ?? 'ASC' })) } : {}),
        ...(query.limit !== null && query.limit !== undefined ? { limit: query.limit } : {}),
        ...(query.offset !== null && query.offset !== undefined ? { offset: query.offset } : {}),
        ...(query.useRollups === false ? { useRollups: false } : {}),
      };
      const result = await analytics.read((db) => semantic.query(db, metricQuery, access));
      // Physical names are admin-only, as in catalog lineage.
      const sources = isAllowed(principal, 'catalog.physical') ? planSources(semantic.index, result.plan) : undefined;
      return { ...result, showSql: canSeeSql, ...(sources ? { sources } : {}) };
    },
  }),
);
