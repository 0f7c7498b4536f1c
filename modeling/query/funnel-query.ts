import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { Dimension, DimensionType, Filter, FunnelStep, Model } from '../catalog/types.ts';
import { validateCondition } from '../catalog/validate-condition.ts';
import { funnelShapeProblems, PROPERTY_PREFIX, stepFilterProblems } from '../catalog/validate-funnels.ts';
import { leaves } from '../catalog/condition.ts';
import { castProblem } from '../catalog/values.ts';
import { StrataError } from '../errors.ts';
import { quoteInput } from '../quote-input.ts';
import { closestNames } from './suggest.ts';
import type { GroupByInput } from './metric-query.ts';
import { queryMembers, type QueryMember } from './query-members.ts';
import { resolveOnModel, type ResolvedGroupBy } from './resolve-query.ts';

/** API.md's `FunnelInput`: a defined funnel by name, or steps and a window, over a time range. */
export interface FunnelQuery {
  /** A funnel of the catalog: its steps and window (steps and windowHours given here replace them). */
  readonly funnel?: string;
  readonly steps?: readonly FunnelStep[];
  readonly windowHours?: number;
  /** Half-open `[from, to)`: the entries (first step 1 occurrence) counted. */
  readonly timeRange: { readonly from: string; readonly to: string };
  readonly groupBy?: readonly GroupByInput[];
  /** Chooses the events of every step (customer dimensions and tags choose the customers). */
  readonly where?: Filter;
  /** The caller's row-level scope. */
  readonly scope?: Filter;
  /**
   * The type of each event property a step filter may compare, by event name (from the
   * domain's event definitions); a property not listed is refused.
   */
  readonly propertyTypes?: ReadonlyMap<string, ReadonlyMap<string, DimensionType>>;
  /** False: read raw events even where a funnel rollup stores the answer. */
  readonly useRollups?: boolean;
}

export interface ResolvedFunnelQuery {
  readonly name?: string;
  readonly steps: readonly FunnelStep[];
  readonly windowHours: number;
  readonly timeRange: { readonly from: string; readonly to: string };
  readonly groupBy: readonly ResolvedGroupBy[];
  readonly where?: Filter;
  readonly scope?: Filter;
  readonly stream: {
    readonly model: Model;
    readonly entity: Dimension;
    readonly eventName: Dimension;
    readonly time: Dimension;
    readonly properties?: string;
  };
  /** Property types per step (index) for the properties its filter compares. */
  readonly propertyTypes: readonly ReadonlyMap<string, DimensionType>[];
  /** Every member the funnel groups or filters by, with its class (checked against the caller's clearance). */
  readonly members: readonly QueryMember[];
}

/** Resolves and checks a funnel query against the catalog; coded errors for anything wrong. */
export function resolveFunnelQuery(index: CatalogIndex, query: FunnelQuery): ResolvedFunnelQuery {
  const catalog = index.catalog;
  const stream = catalog.eventStream;
  if (!stream) throw new StrataError('INVALID_QUERY', 'this catalog has no event stream, so it answers no funnel');
  const model = index.model(stream.model);
  const dimension = (name: string) => model.dimensions.find((d) => d.name === name) as Dimension;
  const defined = query.funnel === undefined ? undefined : catalog.funnels?.find((f) => f.name === query.funnel && f.status !== 'ARCHIVED');
  if (query.funnel !== undefined && !defined) {
    const suggestions = closestNames(
      query.funnel,
      (catalog.funnels ?? []).map((f) => f.name),
    );
    throw new StrataError(
      'UNKNOWN_MEMBER',
      `unknown funnel ${quoteInput(query.funnel)}${suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : ''}`,
      { suggestions },
    );
  }
  const steps = query.steps ?? defined?.steps;
  const windowHours = query.windowHours ?? defined?.windowHours;
  if (!steps || windowHours === undefined) throw new StrataError('BAD_USER_INPUT', 'name a defined `funnel`, or give `steps` and `windowHours`');
  const shape = funnelShapeProblems({ steps, windowHours });
  if (shape.length > 0) throw new StrataError('BAD_USER_INPUT', shape.join('; '));
  if (!query.timeRange?.from || !query.timeRange.to) throw new StrataError('BAD_USER_INPUT', 'a funnel needs `timeRange` with `from` and `to`');
  const propertyTypes = steps.map((step, i) => {
    const types = new Map<string, DimensionType>();
    if (!step.filter) return types;
    validateCondition(step.filter, { noun: 'filter', path: `steps[${i}].filter` });
    const problems = stepFilterProblems(catalog, step.filter);
    if (problems.length > 0) throw new StrataError('INVALID_QUERY', `steps[${i}].filter: ${problems.join('; ')}`);
    for (const leaf of leaves(step.filter)) {
      if (leaf.kind !== 'compare' || !leaf.dimension.startsWith(PROPERTY_PREFIX)) continue;
      const name = leaf.dimension.slice(PROPERTY_PREFIX.length);
      const type = query.propertyTypes?.get(step.event)?.get(name);
      if (!type) throw new StrataError('UNKNOWN_MEMBER', `steps[${i}].filter: event ${quoteInput(step.event)} declares no property ${quoteInput(name)}`);
      for (const value of leaf.values) {
        const problem = castProblem(type, value);
        if (problem) throw new StrataError('BAD_USER_INPUT', `steps[${i}].filter on ${quoteInput(leaf.dimension)} (${type}): ${problem}`);
      }
      types.set(name, type);
    }
    // Dimension names and values are checked as a metric filter's are.
    const dimensions = withoutProperties(step.filter);
    if (dimensions) resolveOnModel(index, model, { where: dimensions });
    return types;
  });
  const { groupBy } = resolveOnModel(index, model, {
    ...(query.groupBy ? { groupBy: query.groupBy } : {}),
    ...(query.where ? { where: query.where } : {}),
    timeRange: query.timeRange,
  });
  const stepFilters = steps.map((s) => (s.filter ? withoutProperties(s.filter) : undefined)).filter((f): f is Filter => f !== undefined);
  const where: Filter | undefined =
    query.where || stepFilters.length > 0 ? { kind: 'and', filters: [...(query.where ? [query.where] : []), ...stepFilters] } : undefined;
  const members = queryMembers(index, {
    metrics: [],
    models: [model],
    groupBy,
    ...(where ? { where } : {}),
    timeRange: query.timeRange,
    orderBy: [],
    offset: 0,
  });
  return {
    ...(defined ? { name: defined.name } : {}),
    steps,
    windowHours,
    timeRange: { from: query.timeRange.from, to: query.timeRange.to },
    groupBy,
    ...(query.where ? { where: query.where } : {}),
    ...(query.scope ? { scope: query.scope } : {}),
    stream: {
      model,
      entity: dimension(stream.entity),
      eventName: dimension(stream.eventName),
      time: dimension(model.defaultTimeDimension ?? ''),
      ...(stream.properties ? { properties: stream.properties } : {}),
    },
    propertyTypes,
    members,
  };
}

/** The filter with its event-property comparisons taken out (true where they stood), for checking dimension names. */
function withoutProperties(filter: Filter): Filter | undefined {
  if (filter.kind === 'and' || filter.kind === 'or') {
    const kept = filter.filters.map(withoutProperties).filter((f): f is Filter => f !== undefined);
    return kept.length === 0 ? undefined : { kind: filter.kind, filters: kept };
  }
  if (filter.kind === 'not') {
    const inner = withoutProperties(filter.filter);
    return inner ? { kind: 'not', filter: inner } : undefined;
  }
  return filter.kind === 'compare' && filter.dimension.startsWith(PROPERTY_PREFIX) ? undefined : filter;
}
