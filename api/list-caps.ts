import { Kind, type OperationDefinitionNode, type ValueNode } from 'graphql';
import { StrataError } from '../modeling/errors.ts';
import { MAX_EVENTS_PER_BATCH } from '../store/event-collector.ts';
import { MAX_IDS } from '../resolvers/customers.ts';
import { MAX_MEMBERS_PAGE } from '../resolvers/audiences.ts';
import { MAX_READS } from '../resolvers/audit.ts';
import type { OperationField } from './operation-fields.ts';

/** A budget one request shares across every field that draws on it, aliases included. */
interface ListBudget {
  readonly name: string;
  readonly max: number;
}

const PROFILES: ListBudget = { name: 'customer ids', max: MAX_IDS };
const MEMBERS: ListBudget = { name: 'audience members', max: MAX_MEMBERS_PAGE };
const READS: ListBudget = { name: 'personal-data read entries', max: MAX_READS };
const EVENTS: ListBudget = { name: 'events', max: MAX_EVENTS_PER_BATCH };

/** How a field draws on a budget: one per selection, the length of a list argument, or an integer argument. */
type Draw =
  | { readonly kind: 'one' }
  | { readonly kind: 'length'; readonly argument: string }
  | { readonly kind: 'value'; readonly argument: string; readonly default: number };

/**
 * Every field whose size has a cap, and the per-request budget it draws on: the cap of one
 * field (1,000 ids in `customers`) holds for the request as a whole, so 50 aliases cannot
 * multiply it.
 */
export const LIST_CAPS: Readonly<Record<string, { readonly budget: ListBudget; readonly draw: Draw }>> = {
  'Query.customer': { budget: PROFILES, draw: { kind: 'one' } },
  'Query.customers': { budget: PROFILES, draw: { kind: 'length', argument: 'ids' } },
  'Audience.members': { budget: MEMBERS, draw: { kind: 'value', argument: 'first', default: 100 } },
  'Query.personalDataReads': { budget: READS, draw: { kind: 'value', argument: 'first', default: 100 } },
  'Mutation.trackEvents': { budget: EVENTS, draw: { kind: 'length', argument: 'events' } },
};

/** A field of an operation that draws on a list budget. */
export interface ListSite {
  readonly budget: ListBudget;
  readonly draw: Draw;
  readonly value: ValueNode | undefined;
}

/** The fields of an operation that draw on a list budget (computed once per cached document). */
export function listSites(fields: readonly OperationField[]): ListSite[] {
  return fields.flatMap(({ coordinate, node }) => {
    const cap = LIST_CAPS[coordinate];
    if (!cap) return [];
    const argument = cap.draw.kind === 'one' ? undefined : cap.draw.argument;
    return [{ ...cap, value: argument === undefined ? undefined : node.arguments?.find((a) => a.name.value === argument)?.value }];
  });
}

/**
 * Refuses a request whose fields together draw more than a budget allows, counting literal
 * lists and variables alike (variables are known per request), with BAD_USER_INPUT naming the
 * budget, its cap and the total asked.
 */
export function checkListCaps(sites: readonly ListSite[], operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> | undefined): void {
  if (sites.length === 0) return;
  const totals = new Map<ListBudget, number>();
  for (const site of sites) totals.set(site.budget, (totals.get(site.budget) ?? 0) + drawn(site, operation, variables ?? {}));
  for (const [budget, total] of totals) {
    if (total <= budget.max) continue;
    const message = `The request asks for ${total.toLocaleString('en-US')} ${budget.name} across its fields and aliases; one request may ask for at most ${budget.max.toLocaleString('en-US')}.`;
    throw new StrataError('BAD_USER_INPUT', message, { limit: budget.name, max: budget.max });
  }
}

function drawn(site: ListSite, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): number {
  const { draw } = site;
  if (draw.kind === 'one') return 1;
  const value = resolve(site.value, operation, variables);
  if (draw.kind === 'length') return Array.isArray(value) ? value.length : value === null || value === undefined ? 0 : 1;
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : draw.default;
}

/** A literal as a plain value (list literals as arrays of their items), a variable from the request or its default. */
function resolve(node: ValueNode | undefined, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): unknown {
  if (node === undefined) return undefined;
  switch (node.kind) {
    case Kind.VARIABLE: {
      const name = node.name.value;
      if (Object.hasOwn(variables, name)) return variables[name];
      const definition = operation.variableDefinitions?.find((d) => d.variable.name.value === name);
      return resolve(definition?.defaultValue, operation, variables);
    }
    case Kind.LIST:
      return node.values;
    case Kind.INT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    default:
      return node;
  }
}
