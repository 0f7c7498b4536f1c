import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { ConversionMetric, CumulativeMetric, Expression, Filter, Measure, Metric, MetricInput, NonAdditive } from '../catalog/types.ts';
import type { TimeOffset } from '../sql/time-offset.ts';

type Duration = TimeOffset;

/** One aggregation subquery of the statement; several measures may share an aggregate node. */
export type PlanNode =
  | {
      readonly kind: 'aggregate';
      readonly key: string;
      readonly model: string;
      readonly timeDimension: string;
      readonly filters: readonly Filter[];
      readonly offsets: readonly Duration[];
      readonly nonAdditive?: NonAdditive;
      /** Grouped by metric_time, every period of the time spine appears (MetricFlow's join_to_timespine). */
      readonly joinToTimeSpine?: boolean;
      /** Measures aggregated side by side; each may keep its own row filter (`AGG(...) FILTER (WHERE ...)`). */
      readonly columns: { readonly column: string; readonly measure: Measure; readonly filter?: Filter }[];
    }
  | {
      readonly kind: 'cumulative';
      readonly key: string;
      readonly metric: CumulativeMetric;
      readonly filters: readonly Filter[];
      readonly offsets: readonly Duration[];
      readonly column: string;
    }
  | {
      readonly kind: 'conversion';
      readonly key: string;
      readonly metric: ConversionMetric;
      readonly filters: readonly Filter[];
      readonly offsets: readonly Duration[];
      readonly opportunities: string;
      readonly conversions: string;
    };

export type NodeColumns = readonly string[];

/** Columns each node produces beyond its group-by columns. */
export function nodeColumns(node: PlanNode): NodeColumns {
  if (node.kind === 'aggregate') return node.columns.map((c) => c.column);
  if (node.kind === 'cumulative') return [node.column];
  return [node.opportunities, node.conversions];
}

/**
 * Turns metrics into aggregation nodes plus, per metric, an expression over the nodes'
 * columns. Ratios divide aggregated numerator by aggregated denominator; derived metrics
 * combine their inputs' aggregates; nothing is averaged twice or multiplied by a join.
 */
export class MetricPlanner {
  readonly nodes: PlanNode[] = [];
  private leafCount = 0;

  /** `sharePasses`: measures of one model with different own filters share a node (one pass). */
  constructor(
    private readonly index: CatalogIndex,
    private readonly columnRef: (column: string) => RawBuilder<unknown>,
    private readonly options: { readonly sharePasses: boolean } = { sharePasses: true },
  ) {}

  /** The SQL of `metric` over the combined node columns. */
  expression(metric: Metric, filters: readonly Filter[], offsets: readonly Duration[]): RawBuilder<unknown> {
    const own = metric.filter ? [...filters, metric.filter] : filters;
    const value = this.value(metric, own, offsets);
    return metric.fillNullsWith !== undefined ? sql`COALESCE(${value}, ${sql.lit(metric.fillNullsWith)})` : value;
  }

  private value(metric: Metric, filters: readonly Filter[], offsets: readonly Duration[]): RawBuilder<unknown> {
    switch (metric.type) {
      case 'SIMPLE':
      case 'SEMI_ADDITIVE':
        return this.columnRef(this.aggregateColumn(metric.measure.model, metric.measure.measure, filters, offsets, metric.joinToTimeSpine === true));
      case 'RATIO': {
        const numerator = this.input(metric.numerator, filters, offsets);
        const denominator = this.input(metric.denominator, filters, offsets);
        return sql`(CAST(${numerator} AS numeric) / NULLIF(${denominator}, 0))`;
      }
      case 'DERIVED': {
        const inputs = new Map(metric.inputs.map((i) => [i.alias ?? i.metric, i]));
        return this.derived(metric.expression, inputs, filters, offsets);
      }
      case 'CUMULATIVE':
        return this.columnRef(this.cumulativeColumn(metric, filters, offsets));
      case 'CONVERSION': {
        const node = this.conversionNode(metric, filters, offsets);
        const conversions = this.columnRef(node.conversions);
        if (metric.calculation === 'conversions') return conversions;
        return sql`(CAST(${conversions} AS numeric) / NULLIF(${this.columnRef(node.opportunities)}, 0))`;
      }
    }
  }

  private input(input: MetricInput, filters: readonly Filter[], offsets: readonly Duration[]): RawBuilder<unknown> {
    const metric = this.index.metrics.get(input.metric);
    if (!metric) throw new Error(`catalog invariant: no metric '${input.metric}'`);
    const nextFilters = input.filter ? [...filters, input.filter] : filters;
    const nextOffsets: Duration[] = [
      ...offsets,
      ...(input.offsetWindow ? [input.offsetWindow] : []),
      ...(input.offsetToGrain ? [{ toGrain: input.offsetToGrain }] : []),
      ...(input.offsetCustom ? [{ customGrain: input.offsetCustom.granularity, count: input.offsetCustom.count }] : []),
    ];
    return this.expression(metric, nextFilters, nextOffsets);
  }

  private derived(
    expression: Expression,
    inputs: ReadonlyMap<string, MetricInput>,
    filters: readonly Filter[],
    offsets: readonly Duration[],
  ): RawBuilder<unknown> {
    const recurse = (e: Expression): RawBuilder<unknown> => {
      switch (e.kind) {
        case 'number':
          return sql.lit(e.value);
        case 'ref': {
          const input = inputs.get(e.name);
          if (!input) throw new Error(`catalog invariant: no input '${e.name}'`);
          return this.input(input, filters, offsets);
        }
        case 'negate':
          return sql`(-${recurse(e.operand)})`;
        case 'binary':
          return sql`(${recurse(e.left)} ${sql.raw(e.op)} ${recurse(e.right)})`;
        case 'call':
          return sql`${sql.raw(e.fn)}(${sql.join(e.args.map(recurse))})`;
      }
    };
    return recurse(expression);
  }

  private nextColumn(): string {
    return `l${this.leafCount++}`;
  }

  private aggregateColumn(modelName: string, measureName: string, filters: readonly Filter[], offsets: readonly Duration[], spine = false): string {
    const { model, measure } = this.index.measure({ model: modelName, measure: measureName });
    const timeDimension = measure.timeDimension ?? model.defaultTimeDimension ?? '';
    // Measures of one model read in one pass, each with its own filter; a semi-additive
    // measure picks its rows after the filters, so it keeps a node (and its filter) to itself.
    const shared = !measure.nonAdditive && this.options.sharePasses;
    const nodeFilters = measure.filter && !shared ? [...filters, measure.filter] : [...filters];
    const key = JSON.stringify([
      'aggregate',
      model.name,
      timeDimension,
      nodeFilters,
      offsets,
      shared ? null : [measure.name, measure.nonAdditive],
      ...(spine ? ['spine'] : []),
    ]);
    let node = this.nodes.find((n) => n.key === key);
    if (!node) {
      node = {
        kind: 'aggregate',
        key,
        model: model.name,
        timeDimension,
        filters: nodeFilters,
        offsets,
        ...(measure.nonAdditive ? { nonAdditive: measure.nonAdditive } : {}),
        ...(spine ? { joinToTimeSpine: true } : {}),
        columns: [],
      };
      this.nodes.push(node);
    }
    if (node.kind !== 'aggregate') throw new Error('plan invariant: aggregate node expected');
    const existing = node.columns.find((c) => c.measure.name === measure.name);
    if (existing) return existing.column;
    const column = this.nextColumn();
    node.columns.push({ column, measure, ...(shared && measure.filter ? { filter: measure.filter } : {}) });
    return column;
  }

  private cumulativeColumn(metric: CumulativeMetric, filters: readonly Filter[], offsets: readonly Duration[]): string {
    const key = JSON.stringify(['cumulative', metric.name, filters, offsets]);
    const found = this.nodes.find((n) => n.key === key);
    if (found?.kind === 'cumulative') return found.column;
    const column = this.nextColumn();
    this.nodes.push({ kind: 'cumulative', key, metric, filters, offsets, column });
    return column;
  }

  private conversionNode(metric: ConversionMetric, filters: readonly Filter[], offsets: readonly Duration[]): Extract<PlanNode, { kind: 'conversion' }> {
    const key = JSON.stringify(['conversion', metric.name, filters, offsets]);
    const found = this.nodes.find((n) => n.key === key);
    if (found?.kind === 'conversion') return found;
    const node = { kind: 'conversion' as const, key, metric, filters, offsets, opportunities: this.nextColumn(), conversions: this.nextColumn() };
    this.nodes.push(node);
    return node;
  }
}
