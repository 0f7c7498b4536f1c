import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation, GraphQLRequestListener } from '@apollo/server';
import { GraphQLError, type OperationDefinitionNode } from 'graphql';
import { isStrataError, StrataError } from '../modeling/errors.ts';
import { OPERATION_CLASS_OF, type OperationClass, type Principal } from '../services/authorization.ts';
import type { RequestContext } from '../resolvers/context.ts';
import { operationFields } from './operation-fields.ts';
import { checkListCaps, listSites, type ListSite } from './list-caps.ts';
import { rateVariable, type Demand, type RateLimiter, type Refusal } from './rate-limiter.ts';

/** What a cached document's operation asks for: tokens per rate-limit class and list budgets. */
interface OperationPlan {
  readonly demand: Demand;
  readonly lists: readonly ListSite[];
}

const CLASS_OF: Readonly<Record<string, OperationClass | null>> = OPERATION_CLASS_OF;

/**
 * Limits that need the request, checked once an operation is resolved and before it runs:
 * list budgets shared across aliases (variables included), then the caller's rate limits
 * per operation class. The plan of an operation is computed once per document Apollo caches,
 * so a repeated operation costs a map lookup, a few additions and one bucket per class.
 * Refusals answer before any resolver runs: BAD_USER_INPUT (HTTP 400), or RATE_LIMITED
 * (HTTP 429 with Retry-After, see retryable-status.ts).
 */
export function requestLimitsPlugin(limiter: RateLimiter | undefined): ApolloServerPlugin<RequestContext> {
  const plans = new WeakMap<OperationDefinitionNode, OperationPlan>();
  const planOf = (context: GraphQLRequestContextDidResolveOperation<RequestContext>, operation: OperationDefinitionNode): OperationPlan => {
    let plan = plans.get(operation);
    if (!plan) {
      const fields = operationFields(context.schema, context.document, operation);
      plan = { demand: demandOf(fields.map((f) => f.coordinate)), lists: listSites(fields) };
      plans.set(operation, plan);
    }
    return plan;
  };
  const listener: GraphQLRequestListener<RequestContext> = {
    async didResolveOperation(context) {
      const { operation } = context;
      if (!operation) return;
      const plan = planOf(context, operation);
      try {
        checkListCaps(plan.lists, operation, context.request.variables);
      } catch (error) {
        throw isStrataError(error) ? refusal(error) : error;
      }
      if (!limiter || plan.demand.length === 0) return;
      const caller = callerKey((await context.contextValue.session()).principal, context.contextValue.clientAddress);
      const refused = limiter.admit(caller, plan.demand);
      if (refused) throw refusal(rateLimited(refused, caller));
    },
  };
  return { requestDidStart: async () => listener };
}

/** Tokens per class: one per selected field of a class, aliases and nested fields included. */
function demandOf(coordinates: readonly string[]): Demand {
  const tokens = new Map<OperationClass, number>();
  for (const coordinate of coordinates) {
    const operationClass = CLASS_OF[coordinate];
    if (operationClass) tokens.set(operationClass, (tokens.get(operationClass) ?? 0) + 1);
  }
  return [...tokens];
}

/** The rate-limit key of a caller: their key or token subject, or for anonymous callers their address. */
export function callerKey(principal: Principal, clientAddress: string): string {
  return principal.via === 'anonymous' ? `address ${clientAddress}` : `${principal.via} ${principal.name}`;
}

/** The error a refused demand answers with: RATE_LIMITED, or BAD_USER_INPUT when no wait would help. */
export function rateLimited(refused: Refusal, caller: string): StrataError {
  const { operationClass, limit } = refused;
  const rateText = `${limit.perSecond.toLocaleString('en-US')} ${operationClass} requests per second with bursts of ${limit.burst.toLocaleString('en-US')} (${rateVariable(operationClass)})`;
  const who = caller.startsWith('address ') ? `callers from ${caller.slice('address '.length)}` : caller.replace(/^\w+ /, '');
  if (refused.exceedsBurst) {
    return new StrataError(
      'BAD_USER_INPUT',
      `The request selects more ${operationClass} fields than one burst allows: the limit is ${rateText}; split it into smaller requests.`,
      { limit: operationClass, max: limit.burst },
    );
  }
  return new StrataError('RATE_LIMITED', `Rate limit reached for ${who}: ${rateText}; retry after ${refused.retryAfterSeconds} s.`, {
    retryAfter: refused.retryAfterSeconds,
    limit: operationClass,
  });
}

/** A request-level error carrying a domain error (formatted by api/format-error.ts) and its HTTP status. */
function refusal(error: StrataError): GraphQLError {
  const status = error.code === 'RATE_LIMITED' ? 429 : 400;
  return new GraphQLError(error.message, { originalError: error, extensions: { http: { status } } });
}
