import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type AppConfig } from '../api/app.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { createApiKey, revokeApiKey } from '../store/api-keys.ts';
import { testEngines } from './support/engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { captureLog, type CapturedLog } from './support/log-capture.ts';

/**
 * The GraphQL fast path (api/graphql-fast-path.ts) answers exactly as Apollo Server's
 * pipeline does: two apps on one database, one with the fast path and one without
 * (`graphqlFastPath: false`), get the same requests in the same order, and every answer
 * (status, headers that carry meaning, body byte for byte) and access-log line is the same,
 * for successes, policy denials, bad input, rate limits, revoked and unknown keys, unknown
 * customers and the limits of graphql-armor; and the fast path did serve them.
 */

const PROFILE = 'query Profile($id: String!) { customer(id: $id) { tags { key value } } }';
const TWO_OPERATIONS = `query One($id: String!) { customer(id: $id) { id } } query Two { version }`;
const HEADERS = ['content-type', 'retry-after', 'www-authenticate'];

type Key = 'app' | 'analyst' | 'doomed';

interface Request {
  readonly token?: string | null;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

describe.each(await testEngines())('GraphQL fast path on %s', (engine) => {
  let server: DemoServer<Key>;
  let normal: App;
  let normalBase: string;
  const logs: Record<'fast' | 'normal', CapturedLog> = { fast: captureLog(), normal: captureLog() };
  let customerId: string;
  let sequence = 0;

  beforeAll(async () => {
    const app: Partial<AppConfig> = {
      rateLimits: {
        profiles: { perSecond: 0.001, burst: 30 },
        events: null,
        analytics: null,
        definitions: null,
        catalog: null,
      },
      introspection: false,
    };
    server = await startDemoServer(engine, {
      customers: 60,
      seed: 3,
      keys: { app: ['fast-app', 'app'], analyst: ['fast-analyst', 'analyst'], doomed: ['fast-doomed', 'app'] },
      app: { ...app, logger: logs.fast.logger },
    });
    normal = await createApp(server.database, bundledDomain(), {
      dev: true,
      maxBodyBytes: 1_000_000,
      anonymousRole: null,
      ...app,
      logger: logs.normal.logger,
      graphqlFastPath: false,
    });
    normalBase = `http://127.0.0.1:${await normal.listen(0)}`;
    await materializeDomain(server.database, bundledDomain());
    const row = await server.database.db.selectFrom('strata.current_profiles').select('customer_id').limit(1).executeTakeFirstOrThrow();
    customerId = row.customer_id;
  }, 120_000);
  afterAll(async () => {
    await normal?.close();
    await server?.close();
  });

  async function send(base: string, request: Request, requestId: string) {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': requestId, ...request.headers };
    if (request.token) headers.authorization = `Bearer ${request.token}`;
    const response = await fetch(`${base}/graphql`, { method: 'POST', headers, body: JSON.stringify(request.body) });
    const kept = Object.fromEntries(HEADERS.flatMap((name) => (response.headers.has(name) ? [[name, response.headers.get(name)]] : [])));
    return { status: response.status, headers: kept, body: await response.text() };
  }

  /** The access-log lines of one request id, without what differs by timing. */
  const logged = (log: CapturedLog, requestId: string) =>
    log.lines.filter((line) => line.requestId === requestId).map(({ time: _t, durationMs: _d, ms: _m, ...rest }) => rest);

  /** Sends the request to both apps (the one without the fast path first); resolves with both answers. */
  async function both(request: Request) {
    sequence += 1;
    const requestId = `fast-path-${engine}-${sequence}`;
    const normalAnswer = await send(normalBase, request, requestId);
    const served = server.app.graphqlFastPath?.counts.served ?? 0;
    const fastAnswer = await send(server.base, request, requestId);
    const usedFastPath = (server.app.graphqlFastPath?.counts.served ?? 0) > served;
    expect(fastAnswer).toEqual(normalAnswer);
    expect(logged(logs.fast, requestId)).toEqual(logged(logs.normal, requestId));
    return { answer: fastAnswer, usedFastPath, json: JSON.parse(fastAnswer.body) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } };
  }

  it('answers a profile read the same, from the fast path', async () => {
    const { answer, usedFastPath, json } = await both({ token: server.keys.app, body: { query: PROFILE, variables: { id: customerId } } });
    expect(usedFastPath).toBe(true);
    expect(answer.status).toBe(200);
    expect(JSON.stringify(json.data)).toMatch(/"tags":\[\{"key"/);
    // Again, now that the document is known; and an unknown customer.
    expect((await both({ token: server.keys.app, body: { query: PROFILE, variables: { id: customerId } } })).usedFastPath).toBe(true);
    const unknown = await both({ token: server.keys.app, body: { query: PROFILE, variables: { id: 'no-such-customer' } } });
    expect(unknown.json).toEqual({ data: { customer: null } });
  });

  it('answers policy denials the same: no key (401), a role without profiles.read (403)', async () => {
    const anonymous = await both({ body: { query: PROFILE, variables: { id: customerId } } });
    expect(anonymous.usedFastPath).toBe(true);
    expect(anonymous.answer.status).toBe(401);
    expect(anonymous.json.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const analyst = await both({ token: server.keys.analyst, body: { query: PROFILE, variables: { id: customerId } } });
    expect(analyst.json.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const mutation = await both({ token: server.keys.analyst, body: { query: 'mutation { revokeApiKey(name: "fast-app") { revoked } }' } });
    expect(mutation.answer.status).toBe(403);
    expect(mutation.usedFastPath).toBe(true);
  });

  it('answers bad input the same: variables of the wrong type or missing, list caps, operation names', async () => {
    const wrongType = await both({ token: server.keys.app, body: { query: PROFILE, variables: { id: 5 } } });
    expect(wrongType.answer.status).toBe(400);
    expect(wrongType.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await both({ token: server.keys.app, body: { query: PROFILE } })).answer.status).toBe(400);
    const tooMany = Array.from({ length: 1_001 }, (_, i) => `c${i}`);
    const capped = await both({
      token: server.keys.app,
      body: { query: 'query($ids: [String!]!) { customers(ids: $ids) { id } }', variables: { ids: tooMany } },
    });
    expect(capped.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await both({ token: server.keys.app, body: { query: TWO_OPERATIONS, operationName: 'Two' } })).usedFastPath).toBe(true);
    expect((await both({ token: server.keys.app, body: { query: TWO_OPERATIONS, operationName: 'Three' } })).usedFastPath).toBe(false);
    expect((await both({ token: server.keys.app, body: { query: TWO_OPERATIONS } })).usedFastPath).toBe(false);
    expect((await both({ token: server.keys.app, body: { query: PROFILE, variables: '{"id":"x"}' } })).answer.status).toBe(400);
  });

  it('leaves to Apollo, with the same answers, what does not parse or validate, introspection, armor limits and other media types', async () => {
    for (const query of [
      '{ customer(id: "x") { tags { nope } } }',
      '{ customer(id: ',
      '{ __schema { types { name } } }',
      `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: version`).join(' ')} }`,
    ]) {
      expect((await both({ token: server.keys.app, body: { query } })).usedFastPath).toBe(false);
    }
    const graphqlResponse = { accept: 'application/graphql-response+json' };
    expect((await both({ token: server.keys.app, body: { query: PROFILE, variables: { id: customerId } }, headers: graphqlResponse })).usedFastPath).toBe(
      false,
    );
    const persisted = { query: PROFILE, variables: { id: customerId }, extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } };
    expect((await both({ token: server.keys.app, body: persisted })).usedFastPath).toBe(false);
  });

  it('answers a rate limit the same: 429 with Retry-After once the key has spent its burst', async () => {
    const limited = await createApiKey(server.database.db, 'fast-burst', 'app');
    // Ten aliases take ten of the 30 tokens per request; three requests spend the burst.
    const aliases = `{ ${Array.from({ length: 10 }, (_, i) => `c${i}: customer(id: "${customerId}") { id }`).join(' ')} }`;
    for (let i = 0; i < 3; i += 1) expect((await both({ token: limited, body: { query: aliases } })).answer.status).toBe(200);
    const refused = await both({ token: limited, body: { query: aliases } });
    expect(refused.usedFastPath).toBe(true);
    expect(refused.answer.status).toBe(429);
    expect(refused.answer.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.json.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('answers a revoked key and an unknown key the same: 401 invalid_token', async () => {
    const request = { token: server.keys.doomed, body: { query: PROFILE, variables: { id: customerId } } };
    expect((await both(request)).answer.status).toBe(200);
    await revokeApiKey(server.database.db, server.database.changes, 'fast-doomed');
    const revoked = await both(request);
    expect(revoked.usedFastPath).toBe(true);
    expect(revoked.answer.status).toBe(401);
    expect(revoked.answer.headers['www-authenticate']).toContain('invalid_token');
    const unknown = await both({ ...request, token: 'sk_not_a_key' });
    expect(unknown.answer.status).toBe(401);
  });
});
