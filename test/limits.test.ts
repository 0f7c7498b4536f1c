import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from './support/engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { documentedOperations } from './support/documented-operations.ts';
import type { GqlResponse } from './support/graphql-client.ts';

/**
 * Issue 13, observation 3: document limits (graphql-armor's depth, aliases, cost and
 * directives, the parser's token limit) and list budgets shared across aliases refuse the
 * attacks that held the pool, blew up answers and bypassed `customers(ids)`, each with
 * BAD_USER_INPUT and a message that states the limit, while every documented operation
 * passes them at the default settings.
 */

const ids = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `c${String(from + i).padStart(6, '0')}`);
const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

interface Answer {
  readonly status: number;
  readonly bytes: number;
  readonly body: GqlResponse;
}

describe.each(await testEngines())('GraphQL limits over HTTP on %s', (engine) => {
  let server: DemoServer<'admin' | 'app'>;
  let hidden: DemoServer<'admin'>;

  beforeAll(async () => {
    server = await startDemoServer(engine, { customers: 300, seed: 13, keys: { admin: ['ops-admin', 'admin'], app: ['mobile-app', 'app'] } });
    hidden = await startDemoServer(engine, { customers: 20, seed: 13, keys: { admin: ['ops-admin', 'admin'] }, app: { introspection: false } });
    const run = await send(server, server.keys.admin, 'mutation { materializeTags { runId } }');
    expect(run.body.errors, JSON.stringify(run.body.errors)).toBeUndefined();
  });
  afterAll(async () => {
    await server?.close();
    await hidden?.close();
  });

  async function send(
    target: DemoServer<string>,
    token: string | null,
    query: string,
    variables?: Record<string, unknown>,
    operationName?: string,
  ): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${target.base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables, operationName }) });
    const text = await response.text();
    return { status: response.status, bytes: Buffer.byteLength(text), body: JSON.parse(text) as GqlResponse };
  }

  /** The request was refused whole with BAD_USER_INPUT, HTTP 400, no data, and a message naming the limit. */
  function expectRefused(answer: Answer, message: RegExp): void {
    expect(answer.status, JSON.stringify(answer.body).slice(0, 500)).toBe(400);
    expect(answer.body.data ?? null).toBeNull();
    const refusal = answer.body.errors?.find((e) => message.test(e.message));
    expect(refusal, JSON.stringify(answer.body.errors).slice(0, 500)).toBeDefined();
    expect(refusal?.extensions?.code).toBe('BAD_USER_INPUT');
  }

  it('refuses 5,000 aliases of audience { size } at the token limit, and 100 at the alias limit, before any resolver runs', async () => {
    const huge = await send(server, null, aliases(5000, 'audience(key: "hnw_dormant") { size }'));
    expectRefused(huge, /more than 10,000 tokens.*STRATA_MAX_TOKENS/);
    const many = await send(server, server.keys.admin, aliases(100, 'audience(key: "hnw_dormant") { size }'));
    expectRefused(many, /Aliases limit of 15 exceeded, found 100\..*STRATA_MAX_ALIASES/);
  });

  it('refuses 2,000 aliases of catalog with a short answer instead of a huge one', async () => {
    const text = aliases(2000, 'catalog { models { name dimensions { name type description } measures { name } } metrics { name description } }');
    expect(text.length).toBeGreaterThan(190_000);
    const answer = await send(server, server.keys.admin, text);
    expectRefused(answer, /more than 10,000 tokens/);
    expect(answer.bytes).toBeLessThan(1_000);
    expectRefused(await send(server, server.keys.admin, aliases(16, 'catalog { models { name } }')), /Aliases limit of 15 exceeded, found 16\./);
  });

  it('refuses selections nested deeper than 8 levels', async () => {
    const deep = '{ __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } }';
    expectRefused(await send(server, server.keys.admin, deep), /Query depth limit of 8 exceeded, found 10\..*STRATA_MAX_DEPTH/);
  });

  it('refuses more than 20 directives', async () => {
    const query = `{ ${Array.from({ length: 21 }, (_, i) => `v${i}: version @include(if: true)`).join(' ')} }`;
    const answer = await send(server, null, query);
    expectRefused(answer, /Directives limit of 20 exceeded, found 21\..*STRATA_MAX_DIRECTIVES/);
  });

  it('refuses an operation over the cost limit: two members pages of 1,000', async () => {
    const page = 'audience(key: "hnw_dormant") { members(first: 1000) { edges { node { id } cursor } pageInfo { hasNextPage endCursor } } }';
    expectRefused(await send(server, server.keys.admin, `{ a: ${page} b: ${page} }`), /Query Cost limit of 50000 exceeded, found \d+.*STRATA_MAX_COST/);
  });

  it('counts the 1,000-id budget of customers(ids) across aliases and variables: 50 aliases of 1,000 ids, 2 of 600, one id too many', async () => {
    const fifty = `query Q($ids: [String!]!) ${aliases(50, 'customers(ids: $ids) { id }')}`;
    expectRefused(await send(server, server.keys.app, fifty, { ids: ids(1000) }), /Aliases limit of 15 exceeded, found 50\./);
    const two = 'query Q($a: [String!]!, $b: [String!]!) { a: customers(ids: $a) { id } b: customers(ids: $b) { id } }';
    expectRefused(await send(server, server.keys.app, two, { a: ids(600), b: ids(600, 601) }), /asks for 1,200 customer ids .* at most 1,000/);
    const literal = `{ one: customer(id: "c000001") { id } many: customers(ids: [${ids(1000)
      .map((id) => JSON.stringify(id))
      .join(', ')}]) { id } }`;
    expectRefused(await send(server, server.keys.app, literal), /asks for 1,001 customer ids .* at most 1,000/);
    const allowed = await send(server, server.keys.app, two, { a: ids(500), b: ids(500, 501) });
    expect(allowed.body.errors).toBeUndefined();
    expect([...(allowed.body.data?.a ?? []), ...(allowed.body.data?.b ?? [])].filter((c) => c !== null)).toHaveLength(300);
  });

  it('counts audience members pages across aliases', async () => {
    const query =
      'query Q($n: Int) { x: audience(key: "hnw_dormant") { members(first: $n) { edges { cursor } } } y: audience(key: "hnw_dormant") { members(first: $n) { edges { cursor } } } }';
    await send(
      server,
      server.keys.admin,
      'mutation { createAudience(input: { key: "hnw_dormant", rule: { tag: "aum_tier", op: IN, values: ["hnw", "uhnw"] } }) { key } }',
    );
    expectRefused(await send(server, server.keys.admin, query, { n: 600 }), /asks for 1,200 audience members .* at most 1,000/);
    expect((await send(server, server.keys.admin, query, { n: 500 })).body.errors).toBeUndefined();
  });

  it('hides field suggestions while introspection is off', async () => {
    const shown = await send(server, server.keys.admin, '{ catalog { modelz { name } } }');
    expect(shown.body.errors?.[0]?.message).toMatch(/Did you mean "models"\?/);
    const masked = await send(hidden, hidden.keys.admin, '{ catalog { modelz { name } } }');
    expect(masked.status).toBe(400);
    expect(masked.body.errors?.[0]?.message).toMatch(/Cannot query field "modelz" on type "Catalog"/);
    expect(masked.body.errors?.[0]?.message).not.toMatch(/models/);
  });

  it('passes every documented operation through the limits', async () => {
    const operations = documentedOperations();
    expect(operations.length).toBeGreaterThanOrEqual(22);
    for (const operation of operations) {
      const answer = await send(server, server.keys.admin, operation.query, operation.variables, operation.operationName);
      const problems = (answer.body.errors ?? []).filter((e) => e.extensions?.limit !== undefined || /^GRAPHQL_/.test(String(e.extensions?.code)));
      expect(problems, `${operation.source}: ${JSON.stringify(problems)}`).toEqual([]);
      // What remains are the domain's answers to a replayed script (approving one's own tag, a missing dbt metric).
      for (const error of answer.body.errors ?? [])
        expect(['UNKNOWN_MEMBER', 'FORBIDDEN', 'CONFLICT', 'NOT_FOUND'], operation.source).toContain(error.extensions?.code);
      // A refusal for who asked (approving one's own tag) holds no data and answers 403; all else 200.
      const refusedForWhoAsked = (answer.body.errors ?? []).length > 0 && (answer.body.errors ?? []).every((e) => e.extensions?.code === 'FORBIDDEN');
      expect(answer.status, operation.source).toBe(refusedForWhoAsked ? 403 : 200);
    }
  });
});
