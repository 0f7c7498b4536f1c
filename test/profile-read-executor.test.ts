import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, getOperationAST, parse } from 'graphql';
import { createApp, type App } from '../api/app.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { executeProfileRead, planProfileRead } from '../api/profile-read-executor.ts';
import { schema } from '../resolvers/schema.ts';
import { createApiKey, revokeApiKey } from '../store/api-keys.ts';
import { testEngines } from './support/engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { postGraphqlRaw as send } from './support/graphql-client.ts';

/**
 * The plain profile read executor (api/profile-read-executor.ts) gives graphql-js's answer
 * byte for byte: in process against graphql-js `execute` on the same schema and context, and
 * over HTTP against an app on the same database that runs every request through graphql-js
 * (`graphqlProfileReadExecutor: false`), for aliases, `__typename`, literal and variable ids,
 * masked tags, unknown customers, a scoped key, policy denials and bad variables; documents
 * it does not plan (fragments, directives, other fields) still answer the same, through graphql-js.
 */

const PROFILE = 'query Profile($id: String!) { customer(id: $id) { tags { key value } } }';
const ALIASED = 'query A($id: String!) { c: customer(id: $id) { __typename i: id t: tags { m: masked __typename v: value k: key } tags { key } } }';
const FULL = 'query Full($id: String!) { customer(id: $id) { id tags { key value masked } } }';
const FRAGMENT = 'query F($id: String!) { customer(id: $id) { ...C } } fragment C on Customer { tags { key value } }';
const DIRECTIVE = 'query D($id: String!, $skip: Boolean!) { customer(id: $id) { tags @skip(if: $skip) { key } id } }';
const AUDIENCES = 'query Au($id: String!) { customer(id: $id) { audiences tags { key } } }';
const ROOT_TYPENAME = 'query R($id: String!) { __typename customer(id: $id) { tags { key } } }';
const NULLABLE_VARIABLE = 'query N($id: String = "x") { customer(id: $id) { tags { key } } }';
const DEFAULT_ID = 'query Dv($id: String = "c1") { customer(id: $id) { id tags { key value } } }';

const literal = (id: string) => `{ customer(id: ${JSON.stringify(id)}) { id tags { value key } } }`;

describe('plain profile reads in process', () => {
  const principal = (role: 'app' | 'analyst', clearance: string) => ({ name: role, role, clearance, via: 'key' });
  const contextFor = (role: 'app' | 'analyst', profile: (id: string) => unknown) => {
    const session = Promise.resolve({ principal: principal(role, 'personal'), profiles: { load: async (id: string) => profile(id) } });
    return { session: () => session, clientAddress: '127.0.0.1' };
  };
  const tags = [
    { key: 'aum_tier', value: 'hnw', masked: false },
    { key: 'dormant_90d', value: false, masked: false },
    { key: 'score', value: 12.5, masked: false },
    { key: 'hidden', value: null, masked: true },
    { key: 'missing', value: undefined, masked: false },
  ];
  const known = (id: string) => (id === 'c1' ? { id, tags, audiences: ['a'] } : null);

  async function both(query: string, variables: Record<string, unknown> | undefined, context: unknown) {
    const document = parse(query);
    const operation = getOperationAST(document);
    if (!operation) throw new Error('no operation');
    const plan = planProfileRead(schema, operation);
    const planned = plan ? await executeProfileRead(schema, plan, context, variables) : undefined;
    const general = await execute({ schema, document, contextValue: context, variableValues: variables });
    return { planned: planned && JSON.stringify(planned), general: JSON.stringify(general), plan };
  }

  it('answers as graphql-js for every planned variant', async () => {
    const cases: [string, Record<string, unknown> | undefined][] = [
      [PROFILE, { id: 'c1' }],
      [PROFILE, { id: 'nobody' }],
      [ALIASED, { id: 'c1' }],
      [FULL, { id: 'c1' }],
      [literal('c1'), undefined],
      [literal('nobody'), undefined],
      [DEFAULT_ID, {}],
      [DEFAULT_ID, { id: 'nobody' }],
      [PROFILE, { id: 'c1', unused: [1, 2] }],
    ];
    for (const [query, variables] of cases) {
      const { planned, general, plan } = await both(query, variables, contextFor('app', known));
      expect(plan, query).not.toBeNull();
      expect(planned, query).toBe(general);
    }
  });

  it('reports a refused or failed customer field as graphql-js does', async () => {
    for (const context of [
      contextFor('analyst', known),
      contextFor('app', () => {
        throw new Error('database gone');
      }),
      contextFor('app', () => new Error('returned, not thrown')),
    ]) {
      const { planned, general } = await both(ALIASED, { id: 'c1' }, context);
      expect(general).toContain('"errors"');
      expect(planned).toBe(general);
    }
  });

  it('leaves bad variables and values it does not complete itself to graphql-js', async () => {
    for (const variables of [{}, { id: 5 }, { id: null }, undefined]) {
      const { planned, general } = await both(PROFILE, variables, contextFor('app', known));
      expect(planned).toBeUndefined();
      expect(general).toContain('"errors"');
    }
    const { planned } = await both(NULLABLE_VARIABLE, { id: null }, contextFor('app', known));
    expect(planned).toBeUndefined();
    for (const odd of [
      { id: 'c1', tags: [{ key: 7, value: 1, masked: false }] },
      { id: 'c1', tags: [{ key: 'k', value: { a: 1 }, masked: false }] },
      { id: 'c1', tags: 'no list' },
    ]) {
      const result = await both(
        FULL,
        { id: 'c1' },
        contextFor('app', () => odd),
      );
      expect(result.planned).toBeUndefined();
    }
  });

  it('plans only plain profile reads', () => {
    for (const query of [
      ROOT_TYPENAME,
      FRAGMENT,
      DIRECTIVE,
      AUDIENCES,
      '{ version }',
      'query { customer(id: "a") { tag(key: "k") } }',
      '{ customers(ids: ["a"]) { tags { key } } }',
    ]) {
      const operation = getOperationAST(parse(query));
      expect(operation && planProfileRead(schema, operation), query).toBeNull();
    }
  });
});

type Key = 'app' | 'analyst' | 'masked' | 'scoped' | 'doomed';

describe.each(await testEngines())('plain profile reads over HTTP on %s', (engine) => {
  let server: DemoServer<Key>;
  let general: App;
  let generalBase: string;
  let ids: string[];

  beforeAll(async () => {
    const rateLimits = { profiles: null, events: null, analytics: null, definitions: null, catalog: null };
    server = await startDemoServer(engine, {
      customers: 40,
      seed: 5,
      keys: {
        app: ['pr-app', 'app'],
        analyst: ['pr-analyst', 'analyst'],
        masked: ['pr-masked', 'app'],
        scoped: ['pr-scoped', 'app'],
        doomed: ['pr-doomed', 'app'],
      },
      app: { rateLimits, introspection: false },
    });
    // A key whose clearance masks the demo's internal tags, and one confined to one channel.
    server.keys.masked = await createApiKey(server.database.db, 'pr-masked-public', 'app', { clearance: 'public' });
    server.keys.scoped = await createApiKey(server.database.db, 'pr-scoped-web', 'app', {
      scope: { dimension: 'customer.channel', op: 'EQ', values: ['web'] },
    });
    general = await createApp(server.database, bundledDomain(), {
      dev: true,
      maxBodyBytes: 1_000_000,
      anonymousRole: null,
      rateLimits,
      introspection: false,
      graphqlProfileReadExecutor: false,
    });
    generalBase = `http://127.0.0.1:${await general.listen(0)}`;
    await materializeDomain(server.database, bundledDomain());
    ids = (await server.database.db.selectFrom('strata.current_profiles').select('customer_id').orderBy('customer_id').limit(3).execute()).map(
      (r) => r.customer_id,
    );
  }, 120_000);
  afterAll(async () => {
    await general?.close();
    await server?.close();
  });

  it('answers byte for byte as graphql-js, and runs the plain reads itself', async () => {
    const id = ids[0] as string;
    const requests: [Key, unknown][] = [
      ['app', { query: PROFILE, variables: { id } }],
      ['app', { query: PROFILE, variables: { id: 'no-such-customer' } }],
      ['app', { query: ALIASED, variables: { id } }],
      ['app', { query: FULL, variables: { id: ids[1] } }],
      ['app', { query: literal(ids[2] as string) }],
      ['masked', { query: FULL, variables: { id } }],
      ['scoped', { query: FULL, variables: { id } }],
      ['analyst', { query: ALIASED, variables: { id } }],
      ['app', { query: PROFILE, variables: {} }],
      ['app', { query: PROFILE, variables: { id: 5 } }],
      ['app', { query: FRAGMENT, variables: { id } }],
      ['app', { query: DIRECTIVE, variables: { id, skip: true } }],
      ['app', { query: AUDIENCES, variables: { id } }],
      ['app', { query: ROOT_TYPENAME, variables: { id } }],
    ];
    // Twice: the first time each document is validated, the second it is served from the cache.
    const before = server.app.graphqlFastPath?.counts.profileReads ?? 0;
    for (const round of [1, 2]) {
      for (const [key, body] of requests) {
        const token = server.keys[key];
        const [ours, theirs] = [await send(server.base, token, body), await send(generalBase, token, body)];
        expect(ours, `${key} ${JSON.stringify(body)} round ${round}`).toEqual(theirs);
      }
    }
    const planned = (server.app.graphqlFastPath?.counts.profileReads ?? 0) - before;
    // Eight planned requests a round (the refused analyst included); bad variables and the unplanned documents went to graphql-js.
    expect(planned).toBe(16);
    expect(general.graphqlFastPath?.counts.profileReads ?? 0).toBe(0);
    // The masked key did see masked tags, so the comparison covered them.
    expect((await send(server.base, server.keys.masked, { query: FULL, variables: { id } })).body).toContain('"masked":true');
  });

  it('answers a revoked key as graphql-js does', async () => {
    await revokeApiKey(server.database.db, server.database.changes, 'pr-doomed');
    const body = { query: PROFILE, variables: { id: ids[0] } };
    const [ours, theirs] = [await send(server.base, server.keys.doomed, body), await send(generalBase, server.keys.doomed, body)];
    expect(ours.status).toBe(401);
    expect(ours).toEqual(theirs);
  });
});
