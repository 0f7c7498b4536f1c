import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { testEngines } from './support/engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { eventBatch } from './support/event-batches.ts';
import type { GqlResponse } from './support/graphql-client.ts';

/**
 * Per-key rate limits per operation class over HTTP: a bucket that runs dry answers
 * RATE_LIMITED with HTTP 429 and Retry-After (GraphQL and POST /v1/events alike), one key's
 * empty bucket leaves other keys and other classes alone, aliases take one token each, and
 * anonymous callers are counted by address. Buckets refill at one token per 1,000 s here, so
 * no answer depends on how fast the test runs.
 */

const SLOW = 0.001;
const METRIC = '{ metrics(query: { metrics: ["purchase_amount"] }) { rows } }';

type Key = 'analyst' | 'analyst2' | 'analyst3' | 'app' | 'operator';

describe.each(await testEngines())('rate limits over HTTP on %s', (engine) => {
  let server: DemoServer<Key>;

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 50,
      seed: 5,
      keys: {
        analyst: ['bi-one', 'analyst'],
        analyst2: ['bi-two', 'analyst'],
        analyst3: ['bi-three', 'analyst'],
        app: ['mobile-app', 'app'],
        operator: ['ops', 'operator'],
      },
      app: {
        rateLimits: {
          profiles: { perSecond: SLOW, burst: 100 },
          events: { perSecond: SLOW, burst: 2 },
          analytics: { perSecond: SLOW, burst: 2 },
          definitions: null,
          catalog: { perSecond: SLOW, burst: 3 },
        },
      },
    });
  });
  afterAll(() => server?.close());

  async function graphql(token: string | null, query: string, variables?: Record<string, unknown>) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${server.base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as GqlResponse };
  }

  function expectRateLimited(answer: Awaited<ReturnType<typeof graphql>>, variable: RegExp): void {
    expect(answer.status, JSON.stringify(answer.body)).toBe(429);
    expect(answer.retryAfter).toMatch(/^[1-9]\d*$/);
    expect(answer.body.data ?? null).toBeNull();
    const [error] = answer.body.errors ?? [];
    expect(error?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: Number(answer.retryAfter) });
    expect(error?.message).toMatch(variable);
  }

  it('answers RATE_LIMITED with Retry-After once a key has spent its analytics burst, and only for that key and class', async () => {
    for (let i = 0; i < 2; i += 1) expect((await graphql(server.keys.analyst, METRIC)).body.errors).toBeUndefined();
    const refused = await graphql(server.keys.analyst, METRIC);
    expectRateLimited(refused, /bi-one: 0\.001 analytics requests per second with bursts of 2 \(STRATA_RATE_ANALYTICS\)/);
    expect((await graphql(server.keys.analyst2, METRIC)).body.errors).toBeUndefined();
    expect((await graphql(server.keys.analyst, '{ catalog { metrics { name } } }')).body.errors).toBeUndefined();
  });

  it('takes one token per aliased field and per audience count, and refuses a request larger than the burst as bad input', async () => {
    const three = `{ a: metrics(query: { metrics: ["purchase_amount"] }) { rows } b: metrics(query: { metrics: ["purchasers"] }) { rows } c: metrics(query: { metrics: ["purchase_amount"] }) { sql } }`;
    const tooLarge = await graphql(server.keys.analyst3, three);
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringMatching(/more analytics fields than one burst allows/),
    });
    const created = await graphql(
      server.keys.operator,
      'mutation { createAudience(input: { key: "everyone_hnw", rule: { tag: "aum_tier", op: IN, values: ["hnw"] } }) { key } }',
    );
    expect(created.body.errors).toBeUndefined();
    const two = '{ x: audience(key: "everyone_hnw") { size } y: metrics(query: { metrics: ["purchase_amount"] }) { rows } }';
    expect((await graphql(server.keys.analyst3, two)).body.errors).toBeUndefined();
    expectRateLimited(await graphql(server.keys.analyst3, '{ audience(key: "everyone_hnw") { size } }'), /bi-three/);
  });

  it('limits POST /v1/events and trackEvents from one bucket, storing nothing it refuses', async () => {
    const post = (prefix: string) =>
      fetch(`${server.base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.keys.app}` },
        body: JSON.stringify(eventBatch(prefix, 2)),
      });
    expect((await post('rate-1')).status).toBe(200);
    const tracked = await graphql(server.keys.app, 'mutation T($e: [TrackEventInput!]!) { trackEvents(events: $e) { accepted } }', {
      e: eventBatch('rate-2', 1),
    });
    expect(tracked.body).toEqual({ data: { trackEvents: { accepted: 1 } } });
    const refused = await post('rate-3');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED', message: expect.stringMatching(/STRATA_RATE_EVENTS/) } });
    expectRateLimited(
      await graphql(server.keys.app, 'mutation T($e: [TrackEventInput!]!) { trackEvents(events: $e) { accepted } }', { e: eventBatch('rate-4', 1) }),
      /STRATA_RATE_EVENTS/,
    );
    const { rows } = await sql<{ id: string }>`select event_id as id from wealth.app_events where event_id like 'rate-%' order by 1`.execute(
      server.database.db,
    );
    expect(rows.map((r) => r.id)).toEqual(['rate-1-0', 'rate-1-1', 'rate-2-0']);
    expect((await graphql(server.keys.app, '{ customer(id: "c000001") { id } }')).body.errors).toBeUndefined();
  });

  it('counts callers without credentials by their address', async () => {
    for (let i = 0; i < 3; i += 1) {
      const answer = await graphql(null, '{ catalog { models { name } } }');
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    expectRateLimited(
      await graphql(null, '{ catalog { models { name } } }'),
      /callers from .*127\.0\.0\.1: 0\.001 catalog requests per second with bursts of 3 \(STRATA_RATE_CATALOG\)/,
    );
    expect((await graphql(null, '{ version }')).body).toEqual({ data: { version: expect.any(String) } });
  });
});
