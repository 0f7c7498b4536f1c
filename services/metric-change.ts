import type { Kysely } from 'kysely';
import { mapBounded } from './bounded-concurrency.ts';
import type { Filter, Metric } from '../modeling/catalog/types.ts';
import { metricType } from '../modeling/catalog/describe.ts';
import type { CountedResult, QueryAccess, SemanticLayer } from '../modeling/semantic-layer.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import { EXPLAIN_QUERY_CONCURRENCY, cellPeriodTables, meanTable, tableOf, type DateRange, type PeriodTable } from './metric-change-tables.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { closestNames } from '../modeling/query/suggest.ts';
import { cellsToSuppress } from '../modeling/privacy/cell-suppression.ts';
import { castProblem } from '../modeling/catalog/values.ts';
import { toFilter, type FilterInput } from '../modeling/catalog/filter-input.ts';
import { cellsAddUp } from '../modeling/explain/finest-cells.ts';
import {
  ADTRIBUTOR_DEFAULTS,
  adtributor,
  contributions as contributionsOf,
  kitagawa,
  surprises,
  type AdtributorOptions,
  type ChangeCell,
  type Explanation,
} from '../modeling/explain/decompose.ts';

export type { DateRange };

/** API.md's `explainMetricChange(input:)`. */
export interface ExplainInput {
  readonly metric: string;
  /** The period compared against; omitted with `forecast`. */
  readonly base?: DateRange;
  readonly current: DateRange;
  /** Instead of `base`: the mean of the `periods` periods of the same length just before `current`. */
  readonly forecast?: { readonly periods: number };
  readonly dimensions: readonly string[];
  readonly where?: Filter;
  readonly options?: Partial<AdtributorOptions>;
}

/** How the change decomposes, from the metric's own definition. */
export type ChangeMethod = 'ADDITIVE' | 'RATIO' | 'SEMI_ADDITIVE' | 'NON_ADDITIVE';

export interface ContributionRow {
  readonly dimension: string;
  readonly value: unknown;
  readonly base: number | null;
  readonly current: number | null;
  readonly change: number | null;
  readonly share: number | null;
  readonly suppressed: boolean;
}

export interface MixRateRow {
  readonly dimension: string;
  readonly value: unknown;
  readonly mixEffect: number | null;
  readonly rateEffect: number | null;
  readonly suppressed: boolean;
}

export interface DimensionSummary {
  readonly dimension: string;
  /** Jensen-Shannon divergence between the base and current distributions over the values (summed over a ratio's parts). */
  readonly surprise: number;
  /** Whether the values' contributions add up to the total change (the dimension partitions the metric). */
  readonly additive: boolean;
  readonly suppressedValues: number;
}

export interface MetricChangeExplanation {
  readonly metric: string;
  readonly method: ChangeMethod;
  readonly baseRange: DateRange;
  readonly currentRange: DateRange;
  readonly base: number | null;
  readonly current: number | null;
  readonly change: number | null;
  readonly dimensions: readonly DimensionSummary[];
  readonly contributions: readonly ContributionRow[];
  readonly explanations: readonly Explanation[];
  readonly mixRate: readonly MixRateRow[];
}

const MAX_DIMENSIONS = 10;
const MAX_FORECAST_PERIODS = 12;

/** The input checked against the catalog (names, ranges, limits); the metric and its ratio parts. */
export function resolveExplainInput(semantic: SemanticLayer, input: ExplainInput): { metric: Metric; method: ChangeMethod; parts?: [string, string] } {
  const metric = semantic.index.metrics.get(input.metric);
  if (!metric || metric.status === 'ARCHIVED') {
    const suggestions = closestNames(input.metric, [...semantic.index.metrics.keys()]);
    throw new StrataError('UNKNOWN_MEMBER', `unknown metric ${quoteInput(input.metric)}`, { suggestions });
  }
  if (input.dimensions.length === 0 || input.dimensions.length > MAX_DIMENSIONS)
    throw new StrataError('BAD_USER_INPUT', `name 1 to ${MAX_DIMENSIONS} dimensions to explain the change by`);
  if (new Set(input.dimensions).size !== input.dimensions.length) throw new StrataError('BAD_USER_INPUT', 'a dimension is named twice');
  if (input.dimensions.some((d) => d === 'metric_time' || d.startsWith('metric_time__')))
    throw new StrataError('BAD_USER_INPUT', 'explain by dimensions other than metric_time (the periods are `base` and `current`)');
  for (const [name, range] of [
    ['current', input.current],
    ['base', input.base],
  ] as const) {
    if (!range) continue;
    for (const bound of [range.from, range.to]) {
      const problem = castProblem('time', bound);
      if (problem) throw new StrataError('BAD_USER_INPUT', `${name}: ${problem}`);
    }
    if (range.from >= range.to) throw new StrataError('BAD_USER_INPUT', `${name}.from must be before ${name}.to (half-open)`);
  }
  if (!input.base === !input.forecast) throw new StrataError('BAD_USER_INPUT', 'give either `base` or `forecast`');
  if (input.forecast && (!Number.isInteger(input.forecast.periods) || input.forecast.periods < 1 || input.forecast.periods > MAX_FORECAST_PERIODS))
    throw new StrataError('BAD_USER_INPUT', `forecast.periods must be 1 to ${MAX_FORECAST_PERIODS}`);
  const options = { ...ADTRIBUTOR_DEFAULTS, ...input.options };
  for (const [name, value] of Object.entries(options))
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (name.startsWith('max') ? value > 20 : value > 1))
      throw new StrataError('BAD_USER_INPUT', `options.${name} is out of range`);
  // Every dimension must slice the metric: compiling the grouped query checks names, reach and types.
  for (const dimension of input.dimensions) semantic.plan({ metrics: [metric.name], groupBy: [{ dimension }], ...(input.where ? { where: input.where } : {}) });
  const type = metricType(semantic.index, metric);
  if (type === 'RATIO' && metric.type === 'RATIO') {
    const plain = (i: typeof metric.numerator) => !i.filter && !i.alias && !i.offsetWindow && !i.offsetToGrain;
    if (!metric.filter && plain(metric.numerator) && plain(metric.denominator))
      return { metric, method: 'RATIO', parts: [metric.numerator.metric, metric.denominator.metric] };
    return { metric, method: 'NON_ADDITIVE' };
  }
  if (type === 'SEMI_ADDITIVE') return { metric, method: 'SEMI_ADDITIVE' };
  return { metric, method: type === 'SIMPLE' || type === 'DERIVED' ? 'ADDITIVE' : 'NON_ADDITIVE' };
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The `periods` ranges of the same number of days just before `current`, latest first. */
function previousRanges(current: DateRange, periods: number): DateRange[] {
  const days = Math.round((Date.parse(current.to.slice(0, 10)) - Date.parse(current.from.slice(0, 10))) / 86_400_000);
  return Array.from({ length: periods }, (_, i) => ({ from: addDays(current.from, -days * (i + 1)), to: addDays(current.from, -days * i) }));
}

/**
 * Explains a metric's change between two periods (or a period and the mean of the ones
 * before it) by each dimension: every number comes from the semantic layer, one grouped
 * query per dimension and period (two at a time) with the caller's clearance and scope.
 * For callers under the small-cell threshold, each dimension's table is suppressed with
 * complementary cells (`cellsToSuppress`) so that no hidden value is recovered from the
 * total and the shown values; hidden values never appear among the explanations.
 */
export async function explainMetricChange(
  db: Kysely<any>,
  semantic: SemanticLayer,
  access: QueryAccess,
  input: ExplainInput,
  how: { readonly byCells?: boolean } = {},
): Promise<MetricChangeExplanation> {
  const { metric, method, parts } = resolveExplainInput(semantic, input);
  const options: AdtributorOptions = { ...ADTRIBUTOR_DEFAULTS, ...input.options };
  const metrics = [metric.name, ...(parts ?? [])];
  const baseRanges = input.base ? [input.base] : previousRanges(input.current, input.forecast?.periods ?? 1);
  const oneDimension = (range: DateRange, dimension?: string): MetricQuery => ({
    metrics,
    timeRange: range,
    ...(dimension ? { groupBy: [{ dimension }] } : {}),
    ...(input.where ? { where: input.where } : {}),
  });
  // Each table's counts only decide which of its cells are under the threshold (below): floors do.
  const run = (range: DateRange, dimension?: string): Promise<CountedResult> =>
    semantic.queryCounted(db, oneDimension(range, dimension), access, { floors: true });
  const groups: (string | undefined)[] = [undefined, ...input.dimensions];
  const ranges = [input.current, ...baseRanges];
  const combine = (perRange: PeriodTable[]) => ({
    current: perRange[0] as PeriodTable,
    base: perRange.length === 2 ? (perRange[1] as PeriodTable) : meanTable(perRange.slice(1), metrics),
  });
  const read = metrics.map((m) => semantic.index.metrics.get(m) as Metric).slice(parts ? 1 : 0);
  // Where rollups store every one-dimension table (and the totals), those queries read a few
  // stored rows each; the finest cells (every dimension at once) no rollup stores.
  const fromRollups = groups.every((d) => ranges.every((r) => semantic.plan(oneDimension(r, d)).plan.rollup !== undefined));
  // The dimensions whose tables (and the totals) add up from the finest cells over them; the
  // others (an event's own attribute, say) take one query per period each, beside the cells.
  const byCells =
    (how.byCells ?? true) && !fromRollups && (method === 'ADDITIVE' || method === 'RATIO')
      ? input.dimensions.filter((d) => cellsAddUp(semantic.index, semantic.subject, read, [d]) !== undefined)
      : [];
  const cellsFit = byCells.length > 0 ? cellsAddUp(semantic.index, semantic.subject, read, byCells) : undefined;
  const cellTables = cellsFit
    ? await cellPeriodTables(semantic, db, access, input.where, byCells, ranges, metrics, metric.name, parts, cellsFit.numeric)
    : undefined;
  // One query per remaining dimension (every one, and the totals, without cells) and period, at
  // most two at a time: the analytics pool has four connections, and at a million customers
  // each query takes seconds.
  const queried = cellTables ? input.dimensions.filter((d) => !byCells.includes(d)) : groups;
  const flat = await mapBounded(
    queried.flatMap((d) => ranges.map((r) => ({ d, r }))),
    EXPLAIN_QUERY_CONCURRENCY,
    ({ d, r }) => run(r, d),
  );
  const queriedTables = new Map(
    queried.map((d, i) => {
      const results = flat.slice(i * ranges.length, (i + 1) * ranges.length);
      const column = d ? results[0]?.columns[0]?.name : undefined;
      return [d, combine(results.map((r) => tableOf(r, column, metrics, metric.name)))] as const;
    }),
  );
  const tables = groups.map((d) => {
    const cell = d === undefined ? 0 : byCells.indexOf(d) + 1;
    return cellTables && (d === undefined || cell > 0)
      ? combine(cellTables[cell] as PeriodTable[])
      : (queriedTables.get(d) as { current: PeriodTable; base: PeriodTable });
  });
  const totals = tables[0] as { current: PeriodTable; base: PeriodTable };
  const totalRow = (t: PeriodTable) => [...t.rows.values()][0];
  const valueOf = (row: { values: Record<string, number | null> } | undefined): number | null => {
    if (!row) return null;
    if (parts) {
      const num = row.values[parts[0]] ?? null;
      const den = row.values[parts[1]] ?? null;
      return num === null || den === null || den === 0 ? null : num / den;
    }
    return row.values[metric.name] ?? null;
  };
  const k = access.minSubjects;
  const totalHidden = k !== undefined && [totalRow(totals.base), totalRow(totals.current)].some((r) => r !== undefined && r.count > 0 && r.count < k);
  const base = totalHidden ? null : valueOf(totalRow(totals.base));
  const current = totalHidden ? null : valueOf(totalRow(totals.current));
  const change = base === null || current === null ? null : current - base;

  const summaries: DimensionSummary[] = [];
  const contributionRows: ContributionRow[] = [];
  const mixRateRows: MixRateRow[] = [];
  const scored: Parameters<typeof adtributor>[0][number][] = [];
  input.dimensions.forEach((dimension, d) => {
    const { current: cur, base: bas } = tables[d + 1] as { current: PeriodTable; base: PeriodTable };
    const keys = [...new Set([...bas.rows.keys(), ...cur.rows.keys()])];
    const cells: ChangeCell[] = keys.map((key) => {
      const b = bas.rows.get(key);
      const c = cur.rows.get(key);
      return {
        value: (c ?? b)?.value ?? null,
        base: valueOf(b),
        current: valueOf(c),
        ...(parts
          ? {
              baseNum: b?.values[parts[0]] ?? null,
              baseDen: b?.values[parts[1]] ?? null,
              currentNum: c?.values[parts[0]] ?? null,
              currentDen: c?.values[parts[1]] ?? null,
            }
          : {}),
      };
    });
    const counts = keys.map((key) =>
      [bas.rows.get(key)?.count ?? 0, cur.rows.get(key)?.count ?? 0].map((x) => (Number.isFinite(x) ? x : Number.MAX_SAFE_INTEGER)),
    );
    const hidden = totalHidden ? keys.map(() => true) : k === undefined ? keys.map(() => false) : cellsToSuppress(counts, k);
    const contributed = contributionsOf(cells, change ?? 0, parts !== undefined);
    const sum = contributed.reduce((s, c) => s + c.change, 0);
    const additive = change !== null && method !== 'NON_ADDITIVE' && Math.abs(sum - change) <= 1e-9 * Math.max(1, Math.abs(change));
    const surprise = parts
      ? (() => {
          const num = surprises(
            cells.map((c) => c.baseNum ?? 0),
            cells.map((c) => c.currentNum ?? 0),
          );
          const den = surprises(
            cells.map((c) => c.baseDen ?? 0),
            cells.map((c) => c.currentDen ?? 0),
          );
          return num.map((s, i) => s + (den[i] ?? 0));
        })()
      : surprises(
          cells.map((c) => c.base ?? 0),
          cells.map((c) => c.current ?? 0),
        );
    summaries.push({ dimension, surprise: surprise.reduce((s, x) => s + x, 0), additive, suppressedValues: hidden.filter(Boolean).length });
    contributed.forEach((c, i) => {
      const h = hidden[i] === true;
      contributionRows.push({
        dimension,
        value: c.value,
        base: h ? null : c.base,
        current: h ? null : c.current,
        change: h || change === null ? null : c.change,
        share: h ? null : c.share,
        suppressed: h,
      });
    });
    if (parts)
      kitagawa(cells).effects.forEach((e, i) => {
        const h = hidden[i] === true;
        mixRateRows.push({ dimension, value: e.value, mixEffect: h ? null : e.mixEffect, rateEffect: h ? null : e.rateEffect, suppressed: h });
      });
    if (change !== null && change !== 0 && additive)
      scored.push({
        dimension,
        values: contributed.map((c, i) => ({ value: c.value, power: c.change / change, surprise: surprise[i] ?? 0, hidden: hidden[i] === true })),
      });
  });
  return {
    metric: metric.name,
    method,
    baseRange: input.base ?? { from: (baseRanges.at(-1) as DateRange).from, to: input.current.from },
    currentRange: input.current,
    base,
    current,
    change,
    dimensions: summaries.sort((a, b) => b.surprise - a.surprise),
    contributions: contributionRows,
    explanations: adtributor(scored, options),
    mixRate: mixRateRows,
  };
}

/** A CHANGE tile's query (`ExplainMetricChangeInput` as JSON, `forecastPeriods` included) as an explanation input. */
export function explainInputOfJson(query: Readonly<Record<string, unknown>>): ExplainInput {
  const allowed = ['metric', 'base', 'current', 'forecastPeriods', 'dimensions', 'where', 'options'];
  const unknown = Object.keys(query).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new StrataError('BAD_USER_INPUT', `change query: unknown field(s) ${unknown.map(quoteInput).join(', ')}`);
  const range = (value: unknown, what: string): DateRange => {
    const r = value as { from?: unknown; to?: unknown } | null;
    if (!r || typeof r.from !== 'string' || typeof r.to !== 'string') throw new StrataError('BAD_USER_INPUT', `${what} needs \`from\` and \`to\``);
    return { from: r.from, to: r.to };
  };
  if (typeof query.metric !== 'string') throw new StrataError('BAD_USER_INPUT', '`metric` must be a metric name');
  if (!Array.isArray(query.dimensions) || query.dimensions.some((d) => typeof d !== 'string'))
    throw new StrataError('BAD_USER_INPUT', '`dimensions` must be a list of names');
  return {
    metric: query.metric,
    current: range(query.current, 'current'),
    ...(query.base ? { base: range(query.base, 'base') } : {}),
    ...(query.forecastPeriods !== undefined && query.forecastPeriods !== null ? { forecast: { periods: Number(query.forecastPeriods) } } : {}),
    dimensions: query.dimensions as string[],
    ...(query.where ? { where: toFilter(query.where as FilterInput) } : {}),
    ...(query.options ? { options: query.options as Partial<AdtributorOptions> } : {}),
  };
}
