import type { Catalog, Filter, Funnel } from './types.ts';
import type { ProblemCollector } from './validation-error.ts';
import { indexCatalog } from './catalog-index.ts';
import { leaves } from './condition.ts';
import { customGrainNames, parseDimensionRef } from './dimension-ref.ts';
import { locateDimension } from './locate-dimension.ts';

/** Step filters name event properties as `property.<name>` (a key of the stream's properties column). */
export const PROPERTY_PREFIX = 'property.';
/** Funnels have 2 to this many steps. */
export const MAX_FUNNEL_STEPS = 10;
/** The longest conversion window: a year. */
export const MAX_WINDOW_HOURS = 24 * 366;

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const PROPERTY_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Checks the event stream (a model with its entity, event-name and default time dimensions)
 * and every funnel against it: unique snake_case names, 2 to `MAX_FUNNEL_STEPS` steps, a
 * whole number of window hours, and step filters naming dimensions reachable from the
 * stream's model (or its event properties).
 */
export function validateFunnels(catalog: Catalog, problems: ProblemCollector): void {
  const stream = catalog.eventStream;
  if (!stream) {
    if (catalog.funnels?.length) problems.add('funnels', 'NO_EVENT_STREAM', 'funnels need an event stream (`eventStream`) in the catalog');
    return;
  }
  const model = catalog.models.find((m) => m.name === stream.model);
  if (!model) return problems.add('eventStream.model', 'UNKNOWN_MODEL', `model '${stream.model}' is not defined`);
  for (const [field, name] of [
    ['entity', stream.entity],
    ['eventName', stream.eventName],
  ] as const) {
    if (!model.dimensions.some((d) => d.name === name))
      problems.add(`eventStream.${field}`, 'UNKNOWN_DIMENSION', `'${name}' is not a dimension of '${model.name}'`);
  }
  const time = model.dimensions.find((d) => d.name === model.defaultTimeDimension);
  if (time?.type !== 'time') problems.add('eventStream.model', 'NO_TIME_DIMENSION', `model '${model.name}' needs a default time dimension`);
  const seen = new Set<string>();
  for (const funnel of catalog.funnels ?? []) {
    const path = `funnels.${funnel.name}`;
    if (!NAME.test(funnel.name)) problems.add(path, 'INVALID_NAME', `funnel name '${funnel.name}' must be snake_case`);
    if (seen.has(funnel.name)) problems.add(path, 'DUPLICATE_NAME', `funnel '${funnel.name}' is defined twice`);
    seen.add(funnel.name);
    for (const problem of funnelShapeProblems(funnel)) problems.add(path, 'INVALID_FUNNEL', problem);
    for (const [i, step] of funnel.steps.entries()) {
      if (!step.filter) continue;
      for (const problem of stepFilterProblems(catalog, step.filter)) problems.add(`${path}.steps[${i}].filter`, 'INVALID_FILTER', problem);
    }
  }
}

/** What is wrong with a funnel's steps and window, whatever its filters name. */
export function funnelShapeProblems(funnel: Pick<Funnel, 'steps' | 'windowHours'>): string[] {
  const problems: string[] = [];
  if (funnel.steps.length < 2 || funnel.steps.length > MAX_FUNNEL_STEPS) problems.push(`a funnel has 2 to ${MAX_FUNNEL_STEPS} steps`);
  if (!Number.isInteger(funnel.windowHours) || funnel.windowHours < 1 || funnel.windowHours > MAX_WINDOW_HOURS)
    problems.push(`windowHours must be a whole number from 1 to ${MAX_WINDOW_HOURS}`);
  for (const [i, step] of funnel.steps.entries())
    if (!/^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/.test(step.event)) problems.push(`step ${i + 1}: event '${step.event}' is not an event name`);
  return problems;
}

/** Names in a step filter that the event stream cannot resolve. */
export function stepFilterProblems(catalog: Catalog, filter: Filter): string[] {
  const stream = catalog.eventStream;
  const model = catalog.models.find((m) => m.name === stream?.model);
  if (!stream || !model) return ['the catalog has no event stream'];
  const index = indexCatalog(catalog);
  const custom = customGrainNames(catalog);
  const problems: string[] = [];
  for (const leaf of leaves(filter)) {
    if (leaf.kind !== 'compare') {
      problems.push('step filters compare dimensions or event properties only');
      continue;
    }
    if (leaf.dimension.startsWith(PROPERTY_PREFIX)) {
      const name = leaf.dimension.slice(PROPERTY_PREFIX.length);
      if (!stream.properties) problems.push(`'${leaf.dimension}': the event stream has no properties`);
      else if (!PROPERTY_NAME.test(name)) problems.push(`'${leaf.dimension}' is not an event property name`);
      continue;
    }
    const ref = parseDimensionRef(leaf.dimension, custom);
    if (ref.kind === 'metric_time') {
      problems.push('step filters cannot compare metric_time (the time range and window choose the times)');
      continue;
    }
    const found = locateDimension(index, model, ref);
    if (!found.ok) problems.push(`'${leaf.dimension}': ${found.message}`);
  }
  return problems;
}
