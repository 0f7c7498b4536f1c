import type { Dimension, Join, Model } from './types.ts';
import { quoteInput } from '../quote-input.ts';

/** One hop of a join path: the join as declared on `from`. */
export interface JoinStep {
  readonly from: string;
  readonly join: Join;
}

/** How a model is reached from a base model: under which role name, along which joins. */
export interface Reach {
  readonly role: string;
  readonly model: Model;
  readonly path: readonly JoinStep[];
}

export type DimensionLookup =
  | { readonly ok: true; readonly reach: Reach; readonly dimension: Dimension }
  | { readonly ok: false; readonly reason: 'unknown' | 'fan_out' | 'ambiguous'; readonly message: string; readonly candidates: readonly string[] };

/** The join under which a subject model reaches its published tags (`customer.tag.<key>`). */
export const TAG_JOIN = 'tag';

/** Joins that never multiply the base rows. */
const SAFE: ReadonlySet<string> = new Set(['many_to_one', 'one_to_one']);

/**
 * Every role reachable from `base` without fan-out (many_to_one and one_to_one joins only),
 * by breadth-first search: shortest paths first. A role reached by two different shortest
 * paths is listed twice; callers treat that as ambiguous.
 */
export function safeReaches(models: ReadonlyMap<string, Model>, base: Model, maxDepth = 4): Reach[] {
  const reaches: Reach[] = [{ role: base.name, model: base, path: [] }];
  let frontier: Reach[] = reaches.slice();
  const shortest = new Map<string, number>([[base.name, 0]]);
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const next: Reach[] = [];
    for (const from of frontier) {
      for (const join of from.model.joins) {
        const target = models.get(join.model);
        if (!target || !SAFE.has(join.cardinality)) continue;
        if (from.path.some((step) => step.from === join.model) || join.model === base.name) continue;
        const known = shortest.get(join.name);
        if (known !== undefined && known < depth) continue;
        shortest.set(join.name, depth);
        next.push({ role: join.name, model: target, path: [...from.path, { from: from.model.name, join }] });
      }
    }
    reaches.push(...next);
    frontier = next;
  }
  return reaches;
}

/** Roles reached from `base` only through a one_to_many join (reaching them would fan out). */
export function fanOutRoles(models: ReadonlyMap<string, Model>, base: Model): Set<string> {
  const roles = new Set<string>();
  const visit = (model: Model, crossedFanOut: boolean, seen: Set<string>) => {
    for (const join of model.joins) {
      if (seen.has(join.model)) continue;
      const target = models.get(join.model);
      if (!target) continue;
      const fanOut = crossedFanOut || !SAFE.has(join.cardinality);
      if (fanOut) roles.add(join.name);
      visit(target, fanOut, new Set([...seen, join.model]));
    }
  };
  visit(base, false, new Set([base.name]));
  return roles;
}

/**
 * `role.join.dimension`: one more many-to-one (or one-to-one) join named from the role's
 * model, e.g. `customer.tag.aum_tier` reaches the customer's tags through the `tag` join.
 */
function lookupThroughJoin(models: ReadonlyMap<string, Model>, reach: Reach, joinName: string, rest: string): DimensionLookup {
  const join = reach.model.joins.find((j) => j.name === joinName);
  const target = join ? models.get(join.model) : undefined;
  if (!join || !target) {
    return {
      ok: false,
      reason: 'unknown',
      message: `'${reach.model.name}' has no join ${quoteInput(joinName)}`,
      candidates: reach.model.joins.map((j) => `${reach.role}.${j.name}`),
    };
  }
  if (!SAFE.has(join.cardinality)) {
    return { ok: false, reason: 'fan_out', message: `'${reach.model.name}.${joinName}' is a one_to_many join, which would multiply rows`, candidates: [] };
  }
  const next: Reach = { role: `${reach.role}.${joinName}`, model: target, path: [...reach.path, { from: reach.model.name, join }] };
  const dimensions = new Map(target.dimensions.map((d) => [d.name, d]));
  const dot = rest.indexOf('.');
  if (dot > 0) return lookupThroughJoin(models, next, rest.slice(0, dot), rest.slice(dot + 1));
  const dimension = dimensions.get(rest);
  if (!dimension)
    return {
      ok: false,
      reason: 'unknown',
      message: `'${target.name}' has no dimension ${quoteInput(rest)}`,
      candidates: target.dimensions.map((d) => `${next.role}.${d.name}`),
    };
  return { ok: true, reach: next, dimension };
}

/** Finds `role.dimension` (or `role.join.dimension`) from `base`, explaining why when it cannot. */
export function lookupDimension(
  models: ReadonlyMap<string, Model>,
  reaches: readonly Reach[],
  base: Model,
  role: string,
  dimensionName: string,
): DimensionLookup {
  const matches = reaches.filter((r) => r.role === role);
  if (matches.length > 1) {
    const paths = matches.map((r) => [base.name, ...r.path.map((s) => s.join.name)].join(' -> '));
    return {
      ok: false,
      reason: 'ambiguous',
      message: `'${role}' is reached from '${base.name}' by more than one join path (${paths.join('; ')})`,
      candidates: [],
    };
  }
  const reach = matches[0];
  if (!reach) {
    if (fanOutRoles(models, base).has(role)) {
      return {
        ok: false,
        reason: 'fan_out',
        message: `'${role}' is reached from '${base.name}' only through a one_to_many join, which would multiply '${base.name}' rows`,
        candidates: [],
      };
    }
    return {
      ok: false,
      reason: 'unknown',
      message: `no model or join named ${quoteInput(role)} is reachable from '${base.name}'`,
      candidates: reaches.map((r) => r.role),
    };
  }
  const dot = dimensionName.indexOf('.');
  if (dot > 0) return lookupThroughJoin(models, reach, dimensionName.slice(0, dot), dimensionName.slice(dot + 1));
  const dimension = reach.model.dimensions.find((d) => d.name === dimensionName);
  if (!dimension) {
    return {
      ok: false,
      reason: 'unknown',
      message: `'${reach.model.name}' has no dimension ${quoteInput(dimensionName)}`,
      candidates: reach.model.dimensions.map((d) => `${role}.${d.name}`),
    };
  }
  return { ok: true, reach, dimension };
}
