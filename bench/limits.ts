/**
 * CPU cost of the request limits (issue 13: keep it under 0.1 ms of CPU per request; the run
 * fails past it) on the
 * app teams' hot request, `customer(id) { tags { key value } }`, measured in-process with
 * process.cpuUsage over many iterations, no database involved:
 *   (a) the per-request path Apollo runs for every request, once its document is cached:
 *       list budgets and the caller's rate-limit bucket (requestLimitsPlugin.didResolveOperation),
 *       for one app key and for 10,000 anonymous addresses;
 *   (b) graphql-armor's depth, alias, cost and directive rules, which run only when Apollo
 *       validates a document it has not cached yet (beside graphql-js's own rules, shown for
 *       reference), and the parser's token limit;
 *   (c) one pass through the analytics lane (for metric queries, not this request).
 *
 *   npx tsx bench/limits.ts [--iterations 200000]
 */
import { parseArgs } from 'node:util';
import { parse, validate, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { GraphQLRequestContextDidResolveOperation, GraphQLRequestListener } from '@apollo/server';
import { schema } from '../resolvers/schema.ts';
import { DEFAULT_GRAPHQL_LIMITS, graphqlProtection } from '../api/graphql-limits.ts';
import { createRateLimiter, DEFAULT_RATE_LIMITS } from '../api/rate-limiter.ts';
import { requestLimitsPlugin } from '../api/request-limits.ts';
import { createAnalyticsLane } from '../services/analytics-lane.ts';
import type { RequestContext } from '../resolvers/context.ts';
import type { Principal } from '../services/authorization.ts';
import type { Database } from '../store/database.ts';
import { describeMachine, loadAverage } from './support/machine.ts';
import { formatTable } from './support/stats.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '200000' } } });
const ITERATIONS = Number(values.iterations);
const QUERY = 'query Profile($id: String!) { customer(id: $id) { tags { key value } } }';

/** CPU microseconds (user + system) per call of `run`, after a warm-up of a tenth of the calls. */
async function cpuMicros(iterations: number, run: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < iterations / 10; i += 1) await run(i);
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i += 1) await run(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / iterations;
}

const document: DocumentNode = parse(QUERY);
const operation = document.definitions[0] as OperationDefinitionNode;
const appKey: Principal = { name: 'mobile-app', role: 'app', clearance: 'personal', via: 'key' };
const anonymous: Principal = { name: 'anonymous', role: 'app', clearance: 'personal', via: 'anonymous' };

/** A request context as Apollo hands it to didResolveOperation for a cached document. */
function requestContext(principal: Principal, clientAddress: string, id: string) {
  const session = Promise.resolve({ principal });
  return {
    schema,
    document,
    operation,
    request: { query: QUERY, variables: { id } },
    contextValue: { session: () => session, clientAddress } as unknown as RequestContext,
  } as unknown as GraphQLRequestContextDidResolveOperation<RequestContext>;
}

const listener = (await requestLimitsPlugin(createRateLimiter({ ...DEFAULT_RATE_LIMITS, profiles: { perSecond: 1e9, burst: 1e9 } })).requestDidStart?.(
  {} as never,
)) as GraphQLRequestListener<RequestContext>;
const oneKey = requestContext(appKey, '10.0.0.1', 'c000042');
const addresses = Array.from({ length: 10_000 }, (_, i) => requestContext(anonymous, `10.1.${i >> 8}.${i & 255}`, 'c000042'));
const protection = graphqlProtection(DEFAULT_GRAPHQL_LIMITS, { introspection: false });
const lane = createAnalyticsLane({} as Database['analytics'], { concurrency: 4, queue: 32, queueTimeoutMs: 10_000 });
const nothing = async () => undefined;

console.log(`machine: ${describeMachine()}; load ${loadAverage().join(' ')}`);
console.log(`request: ${QUERY}; ${ITERATIONS.toLocaleString('en')} iterations each\n`);
const rows: [string, number][] = [
  ['per request: list budgets + rate limit, one app key', await cpuMicros(ITERATIONS, () => listener.didResolveOperation?.(oneKey))],
  [
    'per request: list budgets + rate limit, 10,000 addresses',
    await cpuMicros(ITERATIONS, (i) => listener.didResolveOperation?.(addresses[i % addresses.length]!)),
  ],
  [
    'uncached document: armor rules (depth, aliases, cost, directives)',
    await cpuMicros(ITERATIONS / 10, () => validate(schema, document, protection.validationRules)),
  ],
  ['uncached document: validation without rules (reference)', await cpuMicros(ITERATIONS / 10, () => validate(schema, document, []))],
  ['uncached document: graphql-js rules (reference)', await cpuMicros(ITERATIONS / 10, () => validate(schema, document))],
  ['uncached document: parse with the token limit', await cpuMicros(ITERATIONS / 10, () => parse(QUERY, protection.parseOptions))],
  ['uncached document: parse without it (reference)', await cpuMicros(ITERATIONS / 10, () => parse(QUERY))],
  ['analytics lane: one run of an empty work', await cpuMicros(ITERATIONS, () => lane.run(nothing))],
];
console.log(
  formatTable(
    ['what', 'CPU µs per call'],
    rows.map(([what, micros]) => [what, micros.toFixed(2)]),
  ),
);
const perRequest = Math.max(rows[0]![1], rows[1]![1]);
const uncached = perRequest + rows[2]![1] - rows[3]![1];
console.log(
  `\nlimits on a cached request: ${perRequest.toFixed(2)} µs CPU (target < 100 µs); on the first request of a document, plus armor's rules over graphql-js's own walk: ${uncached.toFixed(2)} µs`,
);
if (perRequest >= 100) process.exitCode = 1;
