import type { IncomingMessage } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { execute, parse } from 'graphql';
import { schema } from '../../resolvers/schema.ts';
import type { RequestContext } from '../../resolvers/context.ts';
import { formatError } from '../../api/format-error.ts';
import { DEFAULT_GRAPHQL_LIMITS, graphqlProtection } from '../../api/graphql-limits.ts';
import { retryableStatusPlugin } from '../../api/retryable-status.ts';
import { authStatusPlugin } from '../../api/auth-status.ts';
import { graphqlObservationPlugin } from '../../api/graphql-observation.ts';
import { introspectionGuardPlugin } from '../../api/introspection-guard.ts';
import { requestLimitsPlugin } from '../../api/request-limits.ts';
import { createRateLimiter, DEFAULT_RATE_LIMITS } from '../../api/rate-limiter.ts';
import { beginObservation, withObservation } from '../../api/request-observation.ts';
import { createGraphqlFastPath } from '../../api/graphql-fast-path.ts';

const AS_SERVED = 'Apollo with the request plugins (fast path off)';
const QUERY = 'query Profile($id: String!) { customer(id: $id) { tags { key value } } }';
const TAGS = ['aum_tier', 'dormant_90d', 'fund_buyer_30d', 'new_customer_30d', 'preferred_product_type', 'risk_level'];

/**
 * CPU microseconds per `customer(id) { tags { key value } }` through Apollo Server in this
 * process, no HTTP and no database (the session and profile are ready answers): Apollo with
 * the request plugins of api/app.ts (as served with STRATA_GRAPHQL_FAST_PATH=0; its document
 * store caches the parsed and validated document, so graphql-armor's rules do not run), the
 * fast path with the same plugins (api/graphql-fast-path.ts, as served by default), Apollo
 * without those plugins, and graphql-js `execute` alone on the parsed document.
 */
export async function apolloPipelineCosts(iterations: number): Promise<string[][]> {
  const profile = { id: 'c1', audiences: ['a'], tags: TAGS.map((key) => ({ key, value: 'x', masked: false })) };
  const session = Promise.resolve({ principal: { name: 'app', role: 'app', clearance: 'personal', via: 'key' }, profiles: { load: async () => profile } });
  const contextValue = { session: () => session, clientAddress: '127.0.0.1' } as unknown as RequestContext;
  const protection = graphqlProtection(DEFAULT_GRAPHQL_LIMITS, { introspection: false });
  const disabled = [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled()];
  const setups: [string, ApolloServerPlugin<RequestContext>[]][] = [
    [
      AS_SERVED,
      [
        ...disabled,
        retryableStatusPlugin(),
        authStatusPlugin(),
        graphqlObservationPlugin(),
        introspectionGuardPlugin(),
        ...protection.plugins,
        requestLimitsPlugin(createRateLimiter({ ...DEFAULT_RATE_LIMITS, profiles: { perSecond: 1e9, burst: 1e9 } })),
      ],
    ],
    ['Apollo with no plugin of ours', disabled],
  ];
  const headers = new HeaderMap([
    ['content-type', 'application/json'],
    ['authorization', 'Bearer x'],
    ['accept', '*/*'],
  ]);
  const rows: string[][] = [];
  for (const [label, plugins] of setups) {
    const apollo = new ApolloServer<RequestContext>({
      schema,
      formatError,
      introspection: false,
      validationRules: protection.validationRules,
      parseOptions: protection.parseOptions,
      stopOnTerminationSignals: false,
      plugins,
    });
    await apollo.start();
    const run = (i: number) => {
      const observation = beginObservation({ method: 'POST', headers: {} } as IncomingMessage, `r${i}`);
      return withObservation(observation, () =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: 'POST', headers, search: '', body: { query: QUERY, variables: { id: `c${i}` } } },
          context: async () => contextValue,
        }),
      );
    };
    const first = await run(0);
    if (first.body.kind !== 'complete' || !first.body.string.startsWith('{"data":{"customer":{"tags":[{')) throw new Error(`${label}: unexpected answer`);
    rows.push([label, (await cpuMicros(iterations, run)).toFixed(1)]);
    await apollo.stop();
    if (label !== AS_SERVED) continue;
    // The fast path of api/graphql-fast-path.ts with the same plugins, as served by default.
    const fastPath = createGraphqlFastPath<RequestContext>({
      schema,
      validationRules: protection.validationRules,
      parseOptions: protection.parseOptions,
      plugins,
      formatError,
    });
    const runFast = async (i: number) => {
      const observation = beginObservation({ method: 'POST', headers: {} } as IncomingMessage, `f${i}`);
      const answer = await withObservation(observation, () =>
        fastPath.answer({ method: 'POST', headers, search: '', body: { query: QUERY, variables: { id: `c${i}` } } }, async () => contextValue),
      );
      if (!answer) throw new Error('the fast path left the request to Apollo');
      return answer;
    };
    const fast = await runFast(0);
    if (fast.body.kind !== 'complete' || fast.body.string !== first.body.string) throw new Error('the fast path answered differently');
    rows.push(['the fast path with the same plugins (as served)', (await cpuMicros(iterations, runFast)).toFixed(1)]);
  }
  const document = parse(QUERY);
  rows.push([
    'graphql-js execute alone',
    (await cpuMicros(iterations, (i) => execute({ schema, document, contextValue, variableValues: { id: `c${i}` } }))).toFixed(1),
  ]);
  return rows;
}

/** CPU microseconds (user + system) per call, after a warm-up of a fifth of the calls. */
async function cpuMicros(iterations: number, run: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < iterations / 5; i += 1) await run(i);
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i += 1) await run(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / iterations;
}
