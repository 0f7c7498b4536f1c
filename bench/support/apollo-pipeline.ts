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

const QUERY = 'query Profile($id: String!) { customer(id: $id) { tags { key value } } }';
const TAGS = ['aum_tier', 'dormant_90d', 'fund_buyer_30d', 'new_customer_30d', 'preferred_product_type', 'risk_level'];

/**
 * CPU microseconds per `customer(id) { tags { key value } }` through Apollo Server in this
 * process, no HTTP and no database (the session and profile are ready answers): Apollo as
 * served (its document store caches the parsed and validated document, so graphql-armor's
 * rules do not run; the request plugins of api/app.ts do), Apollo without those plugins, and
 * graphql-js `execute` alone on the parsed document (what graphql-jit would replace).
 */
export async function apolloPipelineCosts(iterations: number): Promise<string[][]> {
  const profile = { id: 'c1', audiences: ['a'], tags: TAGS.map((key) => ({ key, value: 'x', masked: false })) };
  const session = Promise.resolve({ principal: { name: 'app', role: 'app', clearance: 'personal', via: 'key' }, profiles: { load: async () => profile } });
  const contextValue = { session: () => session, clientAddress: '127.0.0.1' } as unknown as RequestContext;
  const protection = graphqlProtection(DEFAULT_GRAPHQL_LIMITS, { introspection: false });
  const disabled = [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled()];
  const setups: [string, ApolloServerPlugin<RequestContext>[]][] = [
    [
      'Apollo with the request plugins (as served)',
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
