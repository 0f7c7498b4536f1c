import type { Catalog, Dimension, Grain } from './types.ts';
import { GRAINS } from './types.ts';

/** A time grain: a standard one, or a custom granularity of the catalog's time spine (`alien_day`). */
export interface GrainChoice {
  readonly grain?: Grain;
  readonly custom?: string;
}

/**
 * A dimension reference as written in a query or filter, parsed but not yet located:
 * `metric_time[__grain]`, Strata's `model.dimension`, or MetricFlow's
 * `entity[__entity...]__dimension[__grain]` (an entity alone is a reference too).
 */
export type DimensionRef =
  | { readonly kind: 'metric_time'; readonly text: string; readonly grain: GrainChoice }
  | { readonly kind: 'role'; readonly text: string; readonly role: string; readonly dimension: string; readonly grain: GrainChoice }
  | { readonly kind: 'path'; readonly text: string; readonly entities: readonly string[]; readonly name: string; readonly grain: GrainChoice };

export const METRIC_TIME = 'metric_time';

/** Names of the custom granularities a catalog's time spines define. */
export function customGrainNames(catalog: Catalog): Set<string> {
  return new Set((catalog.timeSpines ?? []).flatMap((s) => s.customGranularities.map((c) => c.name)));
}

function grainOf(part: string | undefined, custom: ReadonlySet<string>): GrainChoice | undefined {
  if (part === undefined) return undefined;
  const upper = part.toUpperCase() as Grain;
  if (part === part.toLowerCase() && GRAINS.includes(upper)) return { grain: upper };
  if (custom.has(part)) return { custom: part };
  return undefined;
}

/**
 * Parses a reference. A trailing `__grain` is taken off MetricFlow names; `model.dimension`
 * stays Strata's form (its grain comes separately).
 *
 * ```ts
 * parseDimensionRef('listing__user__ds__alien_day', new Set(['alien_day']));
 * // { kind: 'path', entities: ['listing', 'user'], name: 'ds', grain: { custom: 'alien_day' } }
 * ```
 */
export function parseDimensionRef(text: string, custom: ReadonlySet<string>): DimensionRef {
  if (text.includes('.')) {
    const dot = text.indexOf('.');
    return { kind: 'role', text, role: text.slice(0, dot), dimension: text.slice(dot + 1), grain: {} };
  }
  const parts = text.split('__');
  if (parts[0] === METRIC_TIME) return { kind: 'metric_time', text, grain: grainOf(parts[1], custom) ?? {} };
  const grain = parts.length >= 3 ? grainOf(parts[parts.length - 1], custom) : undefined;
  const named = grain ? parts.slice(0, -1) : parts;
  return { kind: 'path', text, entities: named.slice(0, -1), name: named[named.length - 1] as string, grain: grain ?? {} };
}

/** The reference without its grain: the base of its output column name. */
export function refBaseName(ref: DimensionRef): string {
  if (ref.kind === 'metric_time') return METRIC_TIME;
  if (ref.kind === 'role') return `${ref.role}__${ref.dimension.replaceAll('.', '__')}`;
  return [...ref.entities, ref.name].join('__');
}

/** Grain name as it appears in a column name (`day`, `alien_day`). */
export function grainSuffix(grain: GrainChoice): string | undefined {
  return grain.custom ?? grain.grain?.toLowerCase();
}

/** The grain a time dimension is shown at when the query names none: its own, never finer than a day. */
export function defaultGrainOf(dimension: Pick<Dimension, 'grain'>): Grain {
  const own = dimension.grain ?? 'DAY';
  return GRAINS.indexOf(own) < GRAINS.indexOf('DAY') ? 'DAY' : own;
}
