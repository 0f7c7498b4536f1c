import type { CatalogIndex } from './catalog-index.ts';
import type { JoinStep } from './join-graph.ts';
import type { Dimension, Entity, Model } from './types.ts';
import type { DimensionRef } from './dimension-ref.ts';
import { quoteInput } from '../quote-input.ts';

/** Where a referenced dimension (or entity) lives, as seen from a base model. */
export interface LocatedDimension {
  readonly steps: readonly JoinStep[];
  readonly model: Model;
  readonly dimension: Dimension;
  readonly isEntity: boolean;
}

export type LocateResult =
  | { readonly ok: true; readonly located: LocatedDimension }
  | { readonly ok: false; readonly reason: 'unknown' | 'fan_out' | 'ambiguous'; readonly message: string };

const IDENTIFYING: ReadonlySet<string> = new Set(['primary', 'unique', 'natural']);

/** An entity as a dimension: its column, compared and grouped like a string. */
export function entityDimension(entity: Entity): Dimension {
  return { name: entity.name, type: 'string', description: `entity ${entity.name}`, sql: entity.sql ?? entity.name };
}

/** Whether `entity` names one row of `model` (so `entity__x` is local to it). */
export function identifies(model: Model, entity: string): boolean {
  return (model.entities ?? []).some((e) => e.name === entity && IDENTIFYING.has(e.type));
}

/**
 * Locates a `role` or `path` reference from `base`: Strata roles by the join graph,
 * MetricFlow entity paths by following joins along each entity (a model's own identifying
 * entity keeps the path local). Joins never fan out; the shortest match wins.
 *
 * ```ts
 * locateDimension(index, bookings, parseDimensionRef('listing__country_latest', new Set()));
 * ```
 */
export function locateDimension(index: CatalogIndex, base: Model, ref: Exclude<DimensionRef, { kind: 'metric_time' }>): LocateResult {
  if (ref.kind === 'role') {
    const found = index.dimension(base, ref.role || base.name, ref.dimension);
    if (!found.ok) return { ok: false, reason: found.reason, message: found.message };
    return { ok: true, located: { steps: found.reach.path, model: found.reach.model, dimension: found.dimension, isEntity: false } };
  }
  const matches: LocatedDimension[] = [];
  const visit = (model: Model, i: number, steps: readonly JoinStep[], seen: ReadonlySet<string>): void => {
    if (i === ref.entities.length) {
      const found = finalMember(model, ref.name);
      if (found) matches.push({ steps, model, ...found });
      return;
    }
    const entity = ref.entities[i] as string;
    if (identifies(model, entity)) visit(model, i + 1, steps, seen);
    for (const join of model.joins) {
      if (join.entity !== entity || seen.has(join.model)) continue;
      const target = index.models.get(join.model);
      if (target) visit(target, i + 1, [...steps, { from: model.name, join }], new Set([...seen, join.model]));
    }
  };
  visit(base, 0, [], new Set([base.name]));
  if (matches.length === 0) return { ok: false, reason: 'unknown', message: explainMissing(index, base, ref) };
  const fewest = Math.min(...matches.map((m) => m.steps.length));
  const best = matches.filter((m) => m.steps.length === fewest);
  const distinct = new Set(best.map((m) => `${m.model.name}.${m.dimension.name}`));
  if (distinct.size > 1) {
    return { ok: false, reason: 'ambiguous', message: `${quoteInput(ref.text)} matches more than one column from '${base.name}': ${[...distinct].join(', ')}` };
  }
  return { ok: true, located: best[0] as LocatedDimension };
}

/** A dimension of the model, or one of its entities as a dimension. */
export function memberOf(model: Model, name: string): Dimension | undefined {
  return finalMember(model, name)?.dimension;
}

function finalMember(model: Model, name: string): { dimension: Dimension; isEntity: boolean } | undefined {
  const dimension = model.dimensions.find((d) => d.name === name);
  if (dimension) return { dimension, isEntity: false };
  const entity = (model.entities ?? []).find((e) => e.name === name && e.sql !== undefined);
  return entity ? { dimension: entityDimension(entity), isEntity: true } : undefined;
}

function explainMissing(index: CatalogIndex, base: Model, ref: Extract<DimensionRef, { kind: 'path' }>): string {
  const holders = [...index.models.values()].filter((m) => finalMember(m, ref.name));
  const first = ref.entities[0];
  if (first && holders.some((m) => (m.entities ?? []).some((e) => e.name === first && e.type === 'foreign') && !identifies(m, first))) {
    return `${quoteInput(ref.text)} is reached from '${base.name}' only through ${quoteInput(first)} as a foreign key of the model holding it, which would multiply '${base.name}' rows (fan-out)`;
  }
  const path =
    ref.entities
      .slice(0, 5)
      .map((e) => quoteInput(e))
      .join(' -> ') + (ref.entities.length > 5 ? ' -> …' : '');
  return `${quoteInput(ref.text)} cannot be reached from '${base.name}': no join along ${ref.entities.length ? path : 'its own entities'} leads to a model with ${quoteInput(ref.name)}`;
}
