import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, getOperationAST, parse } from 'graphql';
import { sql } from 'kysely';
import { createApp, type App } from '../api/app.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { executeDecide, planDecide } from '../api/decide-executor.ts';
import { schema } from '../resolvers/schema.ts';
import { testEngines } from './support/engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { postGraphqlRaw as send } from './support/graphql-client.ts';

/**
 * The plain `decide` executor (api/decide-executor.ts) gives graphql-js's answer byte for
 * byte: in process against graphql-js `execute` on the same schema, with decision services
 * that answer well, oddly (values a scalar coerces or refuses, nulls in non-null fields,
 * promises, returned errors) or fail; and over HTTP against an app on the same database that
 * runs every request through graphql-js (`graphqlDecideExecutor: false`), for first
 * decisions, retries, unknown customers and placements, refused keys and bad variables,
 * every answered decision logged once. Documents it does not plan still answer the same,
 * through graphql-js.
 */

const PLAIN = 'mutation D($c: String!, $p: [String!]!) { decide(customerId: $c, placements: $p) { decisionId content { key } } }';
const FULL = `mutation F($c: String!, $p: [String!]!, $k: String) { decide(customerId: $c, placements: $p, context: { channel: "app" }, idempotencyKey: $k) {
  placement decisionId content { key payload } strategy experiment variant fallback reason } }`;
const ALIASED = `mutation A($c: String!, $p: [String!]!) { d: decide(customerId: $c, placements: $p) {
  __typename id: decisionId c: content { __typename k: key p: payload } why: reason placement } }`;
const LITERAL = 'mutation { decide(customerId: "c1", placements: ["home_banner"]) { placement fallback } }';
const FRAGMENT = 'mutation G($c: String!, $p: [String!]!) { decide(customerId: $c, placements: $p) { ...D } } fragment D on Decision { decisionId }';
const DIRECTIVE = 'mutation H($c: String!, $p: [String!]!, $s: Boolean!) { decide(customerId: $c, placements: $p) { decisionId @skip(if: $s) placement } }';
const TWICE = 'mutation T($c: String!, $p: [String!]!) { decide(customerId: $c, placements: $p) { placement placement content { key } } }';
const TYPENAME_ROOT = 'mutation R($c: String!, $p: [String!]!) { __typename decide(customerId: $c, placements: $p) { placement } }';

const answer = (placement: string, overrides: Record<string, unknown> = {}) => ({
  placement,
  decisionId: `dec_${placement}`,
  content: { key: `${placement}_content`, payload: { title: 'T', n: 1 } },
  strategy: 's1',
  experiment: null,
  variant: null,
  fallback: false,
  reason: 'because',
  ...overrides,
});

describe('plain decide in process', () => {
  const contextFor = (role: 'app' | 'analyst', decide: (request: { placements: readonly string[] }) => unknown) => {
    const session = Promise.resolve({ principal: { name: role, role, clearance: 'personal', via: 'key' }, profiles: {} });
    return { session: () => session, clientAddress: '127.0.0.1', decisions: { decide } };
  };
  const good = (request: { placements: readonly string[] }) => Promise.resolve(request.placements.map((p) => answer(p)));

  async function both(query: string, variables: Record<string, unknown> | undefined, context: () => unknown) {
    const document = parse(query);
    const operation = getOperationAST(document);
    if (!operation) throw new Error('no operation');
    const plan = planDecide(schema, operation);
    const planned = plan ? await executeDecide(schema, plan, context(), variables) : undefined;
    const general = await execute({ schema, document, contextValue: context(), variableValues: variables });
    return { planned: planned && JSON.stringify(planned), general: JSON.stringify(general), plan };
  }

  it('answers as graphql-js for every planned document', async () => {
    const variables = { c: 'c1', p: ['home_banner', 'wealth_mall_top'], k: 'key-000001' };
    for (const query of [PLAIN, FULL, ALIASED, LITERAL]) {
      const { planned, general, plan } = await both(query, variables, () => contextFor('app', good));
      expect(plan, query).not.toBeNull();
      expect(general, query).toContain('"data":{"');
      expect(planned, query).toBe(general);
    }
  });

  it('completes odd values, nulls, promises and errors as graphql-js does', async () => {
    const odd: Record<string, unknown>[] = [
      { strategy: 42 },
      { strategy: true },
      { strategy: { no: 'string' } },
      { fallback: 'yes' },
      { fallback: null },
      { reason: null },
      { reason: undefined },
      { content: null },
      { content: { key: null, payload: 1 } },
      { content: { key: 'k', payload: undefined } },
      { content: Promise.resolve({ key: 'later', payload: ['a', 2] }) },
      { content: Promise.reject(new Error('content failed')) },
      { strategy: new Error('returned, not thrown') },
      { experiment: Promise.reject(new Error('experiment failed')), reason: null },
      { experiment: Promise.reject(new Error('async first')), strategy: new Error('sync second') },
      { decisionId: Number.NaN },
    ];
    for (const overrides of odd) {
      for (const query of [FULL, ALIASED]) {
        // Each run gets its own answers (a rejected promise is consumed once).
        const decide = (request: { placements: readonly string[] }) =>
          request.placements.map((p, i) => (i === 1 ? answer(p, materialize(overrides)) : answer(p)));
        const { planned, general } = await both(query, { c: 'c1', p: ['home_banner', 'wealth_mall_top'] }, () => contextFor('app', decide));
        expect(planned, `${JSON.stringify(overrides)} ${query}`).toBe(general);
      }
    }
    const lists: (() => unknown)[] = [
      () => [Promise.resolve(answer('a')), answer('b')],
      () => [Promise.resolve(answer('a')), Promise.reject(new Error('second failed'))],
      () => [answer('a'), null],
      () => new Set([answer('a')]),
      () => 'not a list',
      () => null,
      () => Promise.reject(new Error('database gone')),
      () => {
        throw new Error('thrown');
      },
      () => new Error('returned'),
    ];
    for (const list of lists) {
      const { planned, general } = await both(PLAIN, { c: 'c1', p: ['a', 'b'] }, () => contextFor('app', list));
      expect(planned, String(list)).toBe(general);
    }
    // The policy check refuses before the resolver runs.
    const refused = await both(FULL, { c: 'c1', p: ['a'] }, () => contextFor('analyst', good));
    expect(refused.general).toContain('"errors"');
    expect(refused.planned).toBe(refused.general);
  });

  it('leaves bad variables to graphql-js, before deciding anything', async () => {
    let decided = 0;
    const counting = (request: { placements: readonly string[] }) => {
      decided += 1;
      return good(request);
    };
    for (const variables of [{}, { c: 5, p: ['a'] }, { c: 'c1', p: null }, { c: 'c1', p: [1, {}] }, undefined]) {
      const document = parse(PLAIN);
      const plan = planDecide(schema, getOperationAST(document) as never);
      expect(plan).not.toBeNull();
      expect(await executeDecide(schema, plan as never, contextFor('app', counting), variables)).toBeUndefined();
    }
    expect(decided).toBe(0);
  });

  it('plans only plain decide mutations', () => {
    for (const query of [
      FRAGMENT,
      DIRECTIVE,
      TWICE,
      TYPENAME_ROOT,
      '{ version }',
      'query { customer(id: "a") { id } }',
      'mutation { materializeTags { runId } }',
    ]) {
      const operation = getOperationAST(parse(query));
      expect(operation && planDecide(schema, operation), query).toBeNull();
    }
  });
});

/** Fresh promises for each run (a rejected one is consumed by the first). */
function materialize(overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (value instanceof Promise) {
      const settled = value.then(
        (v) => ({ ok: true as const, v }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      const fresh = settled.then((s) => (s.ok ? s.v : Promise.reject(s.e)));
      // Handled for the runs whose document does not select the field (nothing awaits it there).
      fresh.catch(() => {});
      out[key] = fresh;
    } else out[key] = value;
  }
  return out;
}

type Key = 'app' | 'analyst' | 'admin';

describe.each(await testEngines())('plain decide over HTTP on %s', (engine) => {
  let server: DemoServer<Key>;
  let general: App;
  let generalBase: string;
  let ids: string[];

  beforeAll(async () => {
    const rateLimits = { profiles: null, events: null, analytics: null, definitions: null, catalog: null };
    server = await startDemoServer(engine, {
      customers: 60,
      seed: 9,
      keys: { app: ['de-app', 'app'], analyst: ['de-analyst', 'analyst'], admin: ['de-admin', 'admin'] },
      app: { rateLimits, introspection: false },
    });
    general = await createApp(server.database, bundledDomain(), {
      dev: true,
      maxBodyBytes: 1_000_000,
      anonymousRole: null,
      rateLimits,
      introspection: false,
      graphqlDecideExecutor: false,
    });
    generalBase = `http://127.0.0.1:${await general.listen(0)}`;
    const ok = await send(server.base, server.keys.admin, { query: 'mutation { materializeTags { runId } }' });
    expect(ok.status).toBe(200);
    ids = (await server.database.db.selectFrom('strata.current_profiles').select('customer_id').orderBy('customer_id').limit(6).execute()).map(
      (r) => r.customer_id,
    );
  }, 300_000);
  afterAll(async () => {
    await general?.close();
    await server?.close();
  });

  const decisionIds = (body: string) => [...body.matchAll(/"(?:decisionId|id)":"(dec_[0-9a-f]+)"/g)].map((m) => m[1] as string);
  const withoutIds = (answer: { body: string }) => ({ ...answer, body: answer.body.replace(/dec_[0-9a-f]+/g, 'dec_') });

  it('answers byte for byte as graphql-js, logs each decision once, and runs the plain decides itself', async () => {
    const before = server.app.graphqlFastPath?.counts.decides ?? 0;
    const both = ['home_banner', 'wealth_mall_top'];
    let planned = 0;
    const answered: string[] = [];
    for (const [n, id] of ids.entries()) {
      // A first decision each (the ids are new, so only they differ), then retries of ours, answered from the log.
      const key = `de-${engine}-${n}-`;
      const query = n % 2 === 0 ? FULL : ALIASED;
      const variables = (k: string) => ({ c: id, p: n % 3 === 0 ? ['wealth_mall_top'] : both, k });
      const ours = await send(server.base, server.keys.app, { query, variables: variables(`${key}ours`) });
      const theirs = await send(generalBase, server.keys.app, { query, variables: variables(`${key}theirs`) });
      expect(ours.body).toContain('"data":{"');
      expect(withoutIds(ours)).toEqual(withoutIds(theirs));
      answered.push(...decisionIds(ours.body), ...decisionIds(theirs.body));
      if (query === FULL) {
        const [retryOurs, retryTheirs] = [
          await send(server.base, server.keys.app, { query, variables: variables(`${key}ours`) }),
          await send(generalBase, server.keys.app, { query, variables: variables(`${key}ours`) }),
        ];
        expect(retryOurs.body).toContain('a retry');
        expect(retryOurs).toEqual(retryTheirs);
        planned += 1;
      }
      planned += 1;
    }
    const { rows } = await sql<{ n: number; distinct_ids: number }>`
      SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct_ids FROM wealth.app_events
      WHERE event_id = ANY(${answered}::text[]) AND event_name = 'placement_impression'`.execute(server.database.db);
    expect(rows[0]).toEqual({ n: answered.length, distinct_ids: answered.length });
    // Unknown customers and placements, refused keys, bad variables, documents it does not plan: the same answers.
    const requests: [Key, unknown, boolean][] = [
      ['app', { query: FULL, variables: { c: 'nobody-at-all', p: both } }, true],
      ['app', { query: FULL, variables: { c: ids[0], p: ['no_such_slot'] } }, true],
      ['app', { query: FULL, variables: { c: ids[0], p: ['home_banner', 'home_banner'] } }, true],
      ['app', { query: FULL, variables: { c: '', p: both } }, true],
      ['analyst', { query: FULL, variables: { c: ids[0], p: both } }, true],
      ['app', { query: PLAIN, variables: { c: ids[0] } }, false],
      ['app', { query: PLAIN, variables: { c: 7, p: both } }, false],
      ['app', { query: FRAGMENT, variables: { c: 'nobody-at-all', p: ['wealth_mall_top'] } }, false],
    ];
    for (const [key, body, plain] of requests) {
      const [ours, theirs] = [await send(server.base, server.keys[key], body), await send(generalBase, server.keys[key], body)];
      expect(withoutIds(ours), `${key} ${JSON.stringify(body)}`).toEqual(withoutIds(theirs));
      if (plain) planned += 1;
    }
    expect((server.app.graphqlFastPath?.counts.decides ?? 0) - before).toBe(planned);
    expect(general.graphqlFastPath?.counts.decides ?? 0).toBe(0);
  });
});
