import { toFilter, type FilterInput } from '../modeling/catalog/filter-input.ts';
import type { Catalog, Filter, Grain } from '../modeling/catalog/types.ts';
import { GRAINS } from '../modeling/catalog/types.ts';
import { parseMetricFlowFilter } from '../modeling/dbt/parse-metricflow-filter.ts';
import { StrataError } from '../modeling/errors.ts';
import { explainPlan, planSources } from '../modeling/plan/explain-plan.ts';
import type { GroupByInput, MetricQuery } from '../modeling/query/metric-query.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { sqlDialect } from '../modeling/sql/dialect.ts';
import { quoteInput } from '../modeling/quote-input.ts';

export interface ExplainOptions {
  /** Comma-separated metric names. */
  readonly metrics?: string;
  /** Comma-separated group-bys: `metric_time__month`, `customer.channel`, `metric_time:MONTH`. */
  readonly groupBy?: string;
  /** A filter in the `FilterInput` JSON form of the API. */
  readonly where?: string;
  /** A filter in MetricFlow's text form (`{{ Dimension('listing__country_latest') }} = 'us'`). */
  readonly filter?: string;
  readonly from?: string;
  readonly to?: string;
  /** Comma-separated fields, `-field` for descending. */
  readonly orderBy?: string;
  readonly limit?: number;
  /** The whole query as JSON, in the API's `MetricQueryInput` form (flags add to it). */
  readonly query?: string;
  /** Print the plan as JSON instead of text. */
  readonly json?: boolean;
  /** Print the SQL after the plan. */
  readonly sql?: boolean;
  /** The SQL dialect to compile for (default PostgreSQL). */
  readonly dialect?: string;
}

/**
 * `strata explain`: the plan of a metric query over a catalog, printed readably (or as JSON),
 * without a database: MetricFlow's `mf query --explain`. The operator running it sees the
 * physical source of each model, as an admin does.
 */
export function explainQuery(catalog: Catalog, options: ExplainOptions, print: (text: string) => void): void {
  const query = queryOf(options);
  if (options.dialect !== undefined && options.dialect !== 'postgres' && options.dialect !== 'citus')
    throw new StrataError('BAD_USER_INPUT', `--dialect must be postgres or citus, not ${quoteInput(options.dialect)}`);
  const layer = createSemanticLayer(catalog, { maxRows: 100_000, dialect: sqlDialect(options.dialect === 'citus' ? 'citus' : 'postgres') });
  const compiled = layer.plan(query);
  const sources = planSources(layer.index, compiled.plan);
  print(options.json ? JSON.stringify({ ...compiled.plan, sources }, null, 2) : explainPlan(compiled.plan, sources));
  if (options.sql) print(`sql:\n${compiled.compiled.sql}`);
}

interface QueryJson {
  readonly metrics?: unknown;
  readonly savedQuery?: unknown;
  readonly groupBy?: unknown;
  readonly where?: unknown;
  readonly filter?: unknown;
  readonly timeRange?: { readonly from?: unknown; readonly to?: unknown };
  readonly orderBy?: unknown;
  readonly limit?: unknown;
  readonly offset?: unknown;
}

function queryOf(options: ExplainOptions): MetricQuery {
  const base = options.query ? parseJson<QueryJson>(options.query, '--query') : {};
  if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new StrataError('BAD_USER_INPUT', '--query must be a JSON object');
  const metrics = [...stringList(base.metrics, '--query metrics'), ...list(options.metrics)];
  const groupBy = [...((base.groupBy as GroupByInput[] | undefined) ?? []), ...list(options.groupBy).map(groupByOf)];
  const filters: Filter[] = [];
  if (base.where !== undefined) filters.push(toFilter(base.where as FilterInput, 'query.where'));
  if (options.where) filters.push(toFilter(parseJson<FilterInput>(options.where, '--where'), 'where'));
  for (const text of [base.filter, options.filter]) if (typeof text === 'string' && text) filters.push(parseMetricFlowFilter(text));
  const from = options.from ?? (base.timeRange?.from as string | undefined);
  const to = options.to ?? (base.timeRange?.to as string | undefined);
  const orderBy = options.orderBy
    ? list(options.orderBy).map((f) => (f.startsWith('-') ? { field: f.slice(1), direction: 'DESC' as const } : { field: f, direction: 'ASC' as const }))
    : (base.orderBy as MetricQuery['orderBy']);
  const limit = options.limit ?? (base.limit as number | undefined);
  return {
    metrics,
    ...(typeof base.savedQuery === 'string' ? { savedQuery: base.savedQuery } : {}),
    ...(groupBy.length > 0 ? { groupBy } : {}),
    ...(filters.length > 0 ? { where: filters.length === 1 ? (filters[0] as Filter) : { kind: 'and', filters } } : {}),
    ...(from || to ? { timeRange: { ...(from ? { from } : {}), ...(to ? { to } : {}) } } : {}),
    ...(orderBy ? { orderBy } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(typeof base.offset === 'number' ? { offset: base.offset } : {}),
  };
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function stringList(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new StrataError('BAD_USER_INPUT', `${what} must be a list of names`);
  return value as string[];
}

/** `dimension` or `dimension:GRAIN`. */
function groupByOf(text: string): GroupByInput {
  const [dimension, grain] = text.split(':') as [string, string | undefined];
  if (grain === undefined) return { dimension };
  const upper = grain.toUpperCase() as Grain;
  if (!GRAINS.includes(upper)) throw new StrataError('BAD_USER_INPUT', `unknown grain '${grain}' in --group-by; use one of ${GRAINS.join(', ')}`);
  return { dimension, grain: upper };
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new StrataError('BAD_USER_INPUT', `${what} is not valid JSON: ${(error as Error).message}`);
  }
}
