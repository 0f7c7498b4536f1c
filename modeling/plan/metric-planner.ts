import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { ConversionMetric, CumulativeMetric, Expression, Filter, MeasureInput, Metric, MetricInput, Model } from '../catalog/types.ts';
import { numberText } from '../catalog/expression.ts';
import type { AggregatePlanColumn, AggregatePlanNode, ConversionPlanNode, CumulativePlanNode, PlanValue, TimeOffset } from '../query/metric-plan.ts';

type Duration = TimeOffset;

/** A node while the plan is built: columns still grow as metrics are added. */
type Building =
  | (Omit<AggregatePlanNode, 'columns' | 'joins'> & { readonly key: string; readonly columns: AggregatePlanColumn[] })
  | (Omit<CumulativePlanNode, 'joins'> & { readonly key: string })
  | (Omit<ConversionPlanNode, 'joins'> & { readonly key: string });

/**
 * Turns metrics into aggregation nodes plus, per metric, a value over the nodes' columns
 * (data, not SQL). Ratios divide aggregated numerator by aggregated denominator; derived
 * metrics combine their inputs' aggregates; nothing is averaged twice or multiplied by a join.
 */
export class MetricPlanner {
  readonly nodes: Building[] = [];
  private leafCount = 0;

  /**
   * `sharePasses`: measures of one model with different own filters share a node (one pass),
   * as do semi-additive measures of one rule and filter, and conversion metrics that compute the same.
   */
  constructor(
    private readonly index: CatalogIndex,
    private readonly options: { readonly sharePasses: boolean } = { sharePasses: true },
  ) {}

  /** The value of `metric` over the combined node columns. */
  expression(metric: Metric, filters: readonly Filter[], offsets: readonly Duration[]): PlanValue {
    const own = metric.filter ? [...filters, metric.filter] : filters;
    const value = this.value(metric, own, offsets);
    return metric.fillNullsWith !== undefined ? { kind: 'fill', value, fill: metric.fillNullsWith } : value;
  }

  private value(metric: Metric, filters: readonly Filter[], offsets: readonly Duration[]): PlanValue {
    switch (metric.type) {
      case 'SIMPLE':
        return this.aggregateColumn(metric.measure.model, metric.measure.measure, filters, offsets, metric.joinToTimeSpine === true);
      case 'RATIO':
        return { kind: 'ratio', numerator: this.input(metric.numerator, filters, offsets), denominator: this.input(metric.denominator, filters, offsets) };
      case 'DERIVED': {
        const inputs = new Map(metric.inputs.map((i) => [i.alias ?? i.metric, i]));
        return this.derived(metric.expression, inputs, filters, offsets);
      }
      case 'CUMULATIVE':
        return this.cumulativeColumn(metric, filters, offsets);
      case 'CONVERSION': {
        const node = this.conversionNode(metric, filters, offsets);
        const conversions: PlanValue = { kind: 'column', node: node.id, column: node.conversions };
        if (metric.calculation === 'conversions') return conversions;
        return { kind: 'ratio', numerator: conversions, denominator: { kind: 'column', node: node.id, column: node.opportunities } };
      }
    }
  }

  private input(input: MetricInput, filters: readonly Filter[], offsets: readonly Duration[]): PlanValue {
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

  private derived(expression: Expression, inputs: ReadonlyMap<string, MetricInput>, filters: readonly Filter[], offsets: readonly Duration[]): PlanValue {
    const recurse = (e: Expression): PlanValue => {
      switch (e.kind) {
        case 'number':
          return { kind: 'number', text: numberText(e) };
        case 'ref': {
          const input = inputs.get(e.name);
          if (!input) throw new Error(`catalog invariant: no input '${e.name}'`);
          return this.input(input, filters, offsets);
        }
        case 'negate':
          return { kind: 'negate', operand: recurse(e.operand) };
        case 'binary':
          return { kind: 'binary', op: e.op, left: recurse(e.left), right: recurse(e.right) };
        case 'call':
          return { kind: 'call', fn: e.fn, args: e.args.map(recurse) };
      }
    };
    return recurse(expression);
  }

  private nextColumn(): string {
    return `l${this.leafCount++}`;
  }

  private nextId(): string {
    return `n${this.nodes.length}`;
  }

  private aggregateColumn(modelName: string, measureName: string, filters: readonly Filter[], offsets: readonly Duration[], spine = false): PlanValue {
    const { model, measure } = this.index.measure({ model: modelName, measure: measureName });
    const timeDimension = measure.timeDimension ?? model.defaultTimeDimension ?? '';
    // Measures of one model read in one pass, each with its own filter; a semi-additive
    // measure picks its rows after the filters, so it shares a node (its filter a node
    // filter) only with measures of the same non-additive rule and filter, which pick the same rows.
    const shared = !measure.nonAdditive && this.options.sharePasses;
    const nodeFilters = measure.filter && !shared ? [...filters, measure.filter] : [...filters];
    const key = JSON.stringify([
      'aggregate',
      model.name,
      timeDimension,
      nodeFilters,
      offsets,
      shared ? null : measure.nonAdditive && this.options.sharePasses ? ['non-additive', measure.nonAdditive] : [measure.name, measure.nonAdditive],
      ...(spine ? ['spine'] : []),
    ]);
    let node = this.nodes.find((n) => n.key === key);
    if (!node) {
      node = {
        kind: 'aggregate',
        id: this.nextId(),
        key,
        model: model.name,
        timeDimension,
        timeGrain: timeGrain(model, timeDimension),
        filters: nodeFilters,
        offsets,
        ...(measure.nonAdditive ? { nonAdditive: measure.nonAdditive } : {}),
        ...(spine ? { joinToTimeSpine: true } : {}),
        columns: [],
      };
      this.nodes.push(node);
    }
    if (node.kind !== 'aggregate') throw new Error('plan invariant: aggregate node expected');
    const existing = node.columns.find((c) => c.measure.measure === measure.name);
    if (existing) return { kind: 'column', node: node.id, column: existing.column };
    const column = this.nextColumn();
    node.columns.push({ column, measure: { model: model.name, measure: measure.name }, ...(shared && measure.filter ? { filter: measure.filter } : {}) });
    return { kind: 'column', node: node.id, column };
  }

  private cumulativeColumn(metric: CumulativeMetric, filters: readonly Filter[], offsets: readonly Duration[]): PlanValue {
    const key = JSON.stringify(['cumulative', metric.name, filters, offsets]);
    const found = this.nodes.find((n) => n.key === key);
    if (found?.kind === 'cumulative') return { kind: 'column', node: found.id, column: found.column };
    const { model, measure } = this.index.measure(metric.measure);
    const node: Building = {
      kind: 'cumulative',
      id: this.nextId(),
      key,
      metric: metric.name,
      measure: metric.measure,
      timeGrain: timeGrain(model, measure.timeDimension ?? model.defaultTimeDimension ?? ''),
      filters,
      offsets,
      ...(metric.joinToTimeSpine ? { joinToTimeSpine: true } : {}),
      column: this.nextColumn(),
    };
    this.nodes.push(node);
    return { kind: 'column', node: node.id, column: node.column };
  }

  private conversionNode(metric: ConversionMetric, filters: readonly Filter[], offsets: readonly Duration[]): Extract<Building, { kind: 'conversion' }> {
    // Keyed by what the node computes, not by the metric's name: two conversion metrics over
    // the same events, window and filters (a metric and its hidden contributor count, which
    // counts the same distinct customers) read one node, so the events are scanned once.
    const key = JSON.stringify([
      'conversion',
      this.options.sharePasses ? null : metric.name,
      this.measureShape(metric.base),
      this.measureShape(metric.conversion),
      metric.entity,
      metric.window,
      metric.constantProperties ?? [],
      metric.baseEvents,
      filters,
      offsets,
    ]);
    const found = this.nodes.find((n) => n.key === key);
    if (found?.kind === 'conversion') return found;
    const node = {
      kind: 'conversion' as const,
      id: this.nextId(),
      key,
      metric: metric.name,
      base: metric.base,
      conversion: metric.conversion,
      filters,
      offsets,
      opportunities: this.nextColumn(),
      conversions: this.nextColumn(),
    };
    this.nodes.push(node);
    return node;
  }

  /** What a measure reads and how it aggregates, without its name or description. */
  private measureShape(input: MeasureInput): unknown[] {
    const { model, measure } = this.index.measure(input);
    return [
      model.name,
      measure.aggregation,
      measure.sql,
      measure.filter ?? null,
      measure.timeDimension ?? model.defaultTimeDimension ?? null,
      measure.nonAdditive ?? null,
    ];
  }
}

/** The grain of a model's time dimension (a day when it names none). */
export function timeGrain(model: Model, timeDimension: string) {
  return model.dimensions.find((d) => d.name === timeDimension)?.grain ?? 'DAY';
}
