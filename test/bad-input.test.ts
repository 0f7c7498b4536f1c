import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient, type GqlError } from './support/graphql-client.ts';
import { CONDITION_LIMITS } from '../modeling/catalog/condition-limits.ts';
import { MAX_INPUT_NESTING } from '../api/input-scan.ts';

/**
 * Issue 13, observation 8 ("Bad input is a coded error") over HTTP: impossible dates and
 * times, NUL and unpaired surrogates, deep nesting and huge names are refused with
 * BAD_USER_INPUT (or UNKNOWN_MEMBER for a name), never INTERNAL_SERVER_ERROR, and change
 * nothing; and the caps on definition text and owners of "Catalog visibility".
 */

const METRICS = 'query($q: MetricQueryInput!) { metrics(query: $q) { rows } }';
const CREATE_TAG = 'mutation($input: CreateTagInput!) { createTag(input: $input) { key } }';
const PREVIEW = 'query($rule: RuleInput) { tagPreview(rule: $rule) { customers } }';
const LEAF = { dimension: 'customer.channel', op: 'EQ', values: ['app'] };

/** `not` nested `levels` times around one comparison, as a value and as JSON text. */
function nestedNot(levels: number): Record<string, unknown> {
  let filter: Record<string, unknown> = LEAF;
  for (let i = 0; i < levels; i++) filter = { not: filter };
  return filter;
}
const nestedNotJson = (levels: number) => `${'{"not":'.repeat(levels)}${JSON.stringify(LEAF)}${'}'.repeat(levels)}`;

await describeEachEngine('bad input over HTTP on %s', (engine) => {
  type Key = 'admin' | 'steward' | 'app';
  let server: DemoServer<Key>;
  let database: TestDatabase;
  let base: string;
  const keys = {} as DemoServer<Key>['keys'];

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 300,
      seed: 11,
      keys: { admin: ['admin-ada', 'admin'], steward: ['steward-sue', 'steward'], app: ['mobile-app', 'app'] },
    });
    ({ database, base } = server);
    Object.assign(keys, server.keys);
  });
  afterAll(() => server?.close());

  const { post, ok } = graphqlClient(() => base);
  /** A raw request: status and parsed answer. */
  const send = async (path: string, token: string, body?: string, init: RequestInit = {}) => {
    const response = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
      ...init,
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  /** The only error of a GraphQL request that must fail with `code`, without data. */
  const refused = async (code: string, query: string, variables?: Record<string, unknown>, token = keys.admin): Promise<GqlError> => {
    const body = await post(token, query, variables);
    expect(
      body.errors?.map((e) => e.extensions?.code),
      JSON.stringify(body),
    ).toEqual([code]);
    expect(body.data ?? null).toBeNull();
    return body.errors?.[0] as GqlError;
  };
  /** A body refused before GraphQL runs: HTTP 400 with a GraphQL-style BAD_USER_INPUT error. */
  const refusedAtTheEdge = async (text: string) => {
    const answer = await send('/graphql', keys.admin, text);
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e: GqlError) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    return answer.body.errors[0] as GqlError;
  };
  const state = async () => ({
    definitions: Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.definitions`.execute(database.db)).rows[0]?.n),
    audit: Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.audit_log`.execute(database.db)).rows[0]?.n),
    runs: Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.tag_runs`.execute(database.db)).rows[0]?.n),
    events: Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM wealth.app_events`.execute(database.db)).rows[0]?.n),
  });

  it('refuses impossible dates and times in time ranges, filter values, filter text, rules and asOf', async () => {
    const before = await state();
    const query = (q: Record<string, unknown>) => refused('BAD_USER_INPUT', METRICS, { q: { metrics: ['purchase_amount'], ...q } });
    expect((await query({ timeRange: { from: '2026-02-30', to: '2026-03-05' } })).message).toMatch(/timeRange\.from: '2026-02-30' .*2026-02 has 28 days/);
    expect((await query({ timeRange: { from: '2026-01-01T25:00:00Z' } })).message).toMatch(/hour 25/);
    // PostgreSQL would roll these over to the next day or minute: refused too.
    expect((await query({ timeRange: { to: '2026-01-01T24:00:00Z' } })).message).toMatch(/timeRange\.to.*hour 24/);
    expect((await query({ timeRange: { to: '2026-01-01 23:59:60' } })).message).toMatch(/second 60/);
    expect((await query({ where: { dimension: 'transaction.occurred_at', op: 'GTE', values: ['2026-02-30'] } })).message).toContain('transaction.occurred_at');
    expect((await query({ filter: "{{ TimeDimension('metric_time', 'day') }} >= '2026-13-01'" })).message).toMatch(/month 13/);
    expect((await refused('BAD_USER_INPUT', PREVIEW, { rule: { dimension: 'customer.registered_at', op: 'GT', values: ['2025-04-31'] } })).message).toMatch(
      /2025-04 has 30 days/,
    );
    await refused('BAD_USER_INPUT', CREATE_TAG, {
      input: { key: 'feb_thirtieth', kind: 'BOOLEAN', description: 'x', rule: { dimension: 'customer.registered_at', op: 'LT', values: ['2026-02-30'] } },
    });
    expect((await refused('BAD_USER_INPUT', 'mutation { materializeTags(asOf: "2026-02-30") { runId } }')).message).toMatch(/asOf/);
    await refused('BAD_USER_INPUT', 'mutation { materializeTags(asOf: "2026-03-01T00:00:00Z") { runId } }');
    expect(await state()).toEqual(before);
    // Real dates pass: a leap day, and an offset timestamp.
    await ok(keys.admin, METRICS, { q: { metrics: ['purchase_amount'], timeRange: { from: '2024-02-29', to: '2026-01-01T08:00:00+08:00' } } });
  });

  it('checks the calendar of event times too (already strict): the event is rejected, nothing stored', async () => {
    const before = await state();
    const today = new Date().toISOString().slice(0, 10);
    const events = ['T25:00:00Z', 'T24:00:00Z', 'T10:61:00+08:00'].map((time, i) => ({
      eventId: `bad-time-${i}`,
      name: 'app_open',
      customerId: 'c000001',
      occurredAt: `${today}${time}`,
      channel: 'app',
    }));
    const answer = await send('/v1/events', keys.app, JSON.stringify(events));
    expect(answer.status).toBe(200);
    expect(answer.body.accepted).toBe(0);
    expect(answer.body.rejected.map((r: { code: string }) => r.code)).toEqual(['INVALID_FIELD', 'INVALID_FIELD', 'INVALID_FIELD']);
    expect(await state()).toEqual(before);
  });

  it('refuses NUL and unpaired surrogates at the edge, in every place a request carries text', async () => {
    const before = await state();
    const createWith = (input: Record<string, unknown>) =>
      JSON.stringify({ query: CREATE_TAG, variables: { input: { key: 'nul_tag', kind: 'BOOLEAN', description: 'x', rule: LEAF, ...input } } });
    const filterValue = await refusedAtTheEdge(
      JSON.stringify({ query: METRICS, variables: { q: { metrics: ['purchase_amount'], where: { ...LEAF, values: ['a\u0000b'] } } } }),
    );
    expect(filterValue.message).toContain("'variables.q.where.values[0]'");
    expect((await refusedAtTheEdge(createWith({ key: 'nul\u0000tag' }))).message).toContain('variables.input.key');
    expect((await refusedAtTheEdge(createWith({ description: 'Fund\u0000buyers' }))).message).toContain('variables.input.description');
    expect((await refusedAtTheEdge(createWith({ rule: { ...LEAF, values: ['app\u0000'] } }))).message).toContain('variables.input.rule.values[0]');
    // Lone surrogates, escaped in JSON; a well-formed pair (an emoji) is fine.
    await refusedAtTheEdge(createWith({ description: '\ud800 alone' }));
    await refusedAtTheEdge(`{"query":"{ version }","variables":{"x":"\\udc00"}}`);
    expect((await send('/graphql', keys.admin, JSON.stringify({ query: '{ version }', variables: { x: '\ud83d\ude00' } }))).status).toBe(200);
    // Escapes inside the GraphQL text itself, and GET query strings.
    await refusedAtTheEdge(JSON.stringify({ query: '{ metrics(query: { metrics: ["a\\u0000"] }) { rows } }' }));
    await refusedAtTheEdge(JSON.stringify({ query: '{ metrics(query: { metrics: ["a\\u{0}"] }) { rows } }' }));
    const got = await send(`/graphql?query=${encodeURIComponent('{ version }')}&variables=${encodeURIComponent('{"a":"\\u0000"}')}`, keys.admin);
    expect(got.status).toBe(400);
    expect(got.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await send(`/graphql?query=${encodeURIComponent('{ version }')}%00`, keys.admin)).status).toBe(400);
    // Events: the existing `{ error: { code, message } }` shape of /v1/events.
    const event = {
      eventId: 'nul-prop',
      name: 'placement_click',
      customerId: 'c000001',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      channel: 'app',
      placementId: 'home_banner',
      properties: { content_id: 'fund\u0000a', position: 0 },
    };
    const events = await send('/v1/events', keys.app, JSON.stringify([event]));
    expect(events.status).toBe(400);
    expect(events.body.error.code).toBe('BAD_USER_INPUT');
    expect(events.body.error.message).toContain('[0].properties.content_id');
    expect(await state()).toEqual(before);
  });

  it('bounds nesting: the shared depth limit for where and filter text, and a nesting cap before GraphQL parses', async () => {
    const depth = CONDITION_LIMITS.maxDepth;
    const where = (filter: Record<string, unknown>) => ({ q: { metrics: ['purchase_amount'], where: filter } });
    const plain = (await ok(keys.admin, METRICS, where(LEAF))).metrics.rows;
    // The limit is a limit, not a ban: twelve levels run, and an even number of `not`s is the plain filter.
    expect((await ok(keys.admin, METRICS, where(nestedNot(depth)))).metrics.rows).toEqual(plain);
    const tooDeep = await refused('BAD_USER_INPUT', METRICS, where(nestedNot(depth + 1)));
    expect(tooDeep.message).toMatch(new RegExp(`^where(\\.not){${depth + 1}}: filters nest at most ${depth} levels deep`));
    // 1,000 nested `not`s in variables, and 5,000 in a literal, are refused before GraphQL's recursive coercion and parser run.
    const thousand = await refusedAtTheEdge(
      `{"query":${JSON.stringify(METRICS)},"variables":{"q":{"metrics":["purchase_amount"],"where":${nestedNotJson(1000)}}}}`,
    );
    expect(thousand.message).toContain(`more than ${MAX_INPUT_NESTING} levels`);
    let literal = '{ dimension: "customer.channel", op: EQ, values: ["app"] }';
    for (let i = 0; i < 5000; i++) literal = `{ not: ${literal} }`;
    expect(
      (await refusedAtTheEdge(JSON.stringify({ query: `{ metrics(query: { metrics: ["purchase_amount"], where: ${literal} }) { rows } }` }))).message,
    ).toContain(`more than ${MAX_INPUT_NESTING} levels`);
    // MetricFlow filter text: 5,000 parentheses fail cleanly with the same limit, and its length is capped.
    const parens = await refused('BAD_USER_INPUT', METRICS, {
      q: { metrics: ['purchase_amount'], filter: `${'('.repeat(5000)}{{ Dimension('customer__channel') }} = 'app'${')'.repeat(5000)}` },
    });
    expect(parens.message).toMatch(new RegExp(`^filter: filters nest at most ${depth} levels deep \\(at character ${depth + 1}\\)`));
    const long = await refused('BAD_USER_INPUT', METRICS, {
      q: { metrics: ['purchase_amount'], filter: `{{ Dimension('customer__channel') }} IN (${Array(5000).fill("'app'").join(', ')})` },
    });
    expect(long.message).toContain(`at most ${CONDITION_LIMITS.maxFilterTextLength} characters`);
    const wide = await refused('BAD_USER_INPUT', METRICS, where({ or: Array.from({ length: CONDITION_LIMITS.maxComparisons + 1 }, () => LEAF) }));
    expect(wide.message).toContain(`at most ${CONDITION_LIMITS.maxComparisons} comparisons`);
  });

  it('answers a 200 KB name with a short message that echoes its start, and no suggestions', async () => {
    const huge = `purchase_amount${'x'.repeat(200_000)}`;
    const metric = await refused('UNKNOWN_MEMBER', METRICS, { q: { metrics: [huge] } });
    expect(metric.message.length).toBeLessThan(120);
    expect(metric.message).toMatch(/^unknown metric 'purchase_amountx+…'$/);
    expect(metric.extensions?.suggestions).toEqual([]);
    const dimension = await refused('UNKNOWN_MEMBER', METRICS, {
      q: { metrics: ['purchase_amount'], groupBy: [{ dimension: `customer.${'y'.repeat(200_000)}` }] },
    });
    expect(dimension.message.length).toBeLessThan(200);
    // Control characters sent back are replaced, and a short misspelling still gets its suggestion.
    expect((await refused('UNKNOWN_MEMBER', METRICS, { q: { metrics: ['purchase\namount'] } })).message).toMatch(
      /^unknown metric 'purchase\ufffdamount'; did you mean 'purchase_amount'/,
    );
  });

  it('caps definition text from the API and takes the owner from the principal or a validated name', async () => {
    const DESCRIBE = `{ catalog { tags { key owner category description } } }`;
    const REJECT = 'mutation($key: String!, $v: Int!, $reason: String!) { rejectTag(key: $key, expectedVersion: $v, reason: $reason) { status } }';
    const AUDIENCE = 'mutation($input: CreateAudienceInput!) { createAudience(input: $input) { key } }';
    const tag = (input: Record<string, unknown>) => ({ input: { key: 'capped_tag', kind: 'BOOLEAN', description: 'Capped', rule: LEAF, ...input } });
    const before = await state();
    expect((await refused('BAD_USER_INPUT', CREATE_TAG, tag({ description: 'd'.repeat(2001) }), keys.steward)).message).toBe(
      'description: at most 2000 characters, got 2001',
    );
    expect((await refused('BAD_USER_INPUT', CREATE_TAG, tag({ category: 'c'.repeat(65) }), keys.steward)).message).toContain('category: at most 64 characters');
    expect((await refused('BAD_USER_INPUT', CREATE_TAG, tag({ category: 'two\nlines' }), keys.steward)).message).toContain('one-line label');
    expect((await refused('BAD_USER_INPUT', CREATE_TAG, tag({ description: 'bell\u0007' }), keys.steward)).message).toContain('control characters');
    expect((await refused('BAD_USER_INPUT', CREATE_TAG, tag({ owner: 'Robert"); DROP TABLE tags;--' }), keys.steward)).message).toMatch(
      /^owner: 'Robert"\); DROP/,
    );
    await refused('BAD_USER_INPUT', CREATE_TAG, tag({ key: `k${'e'.repeat(63)}` }), keys.steward);
    await refused('BAD_USER_INPUT', AUDIENCE, { input: { key: 'capped_audience', description: 'a'.repeat(2001), rule: LEAF } }, keys.admin);
    expect(await state()).toEqual(before);

    // Within the caps: 2,000 characters, a Chinese label, and the owner defaulting to the acting key's name.
    await ok(keys.steward, CREATE_TAG, tag({ description: `${'d'.repeat(1999)}\n`, category: '高净值 客户' }));
    await ok(keys.steward, CREATE_TAG, tag({ key: 'team_owned', owner: 'wealth-data' }));
    const tags = new Map(((await ok(keys.steward, DESCRIBE)).catalog.tags as { key: string; owner: string; category: string }[]).map((t) => [t.key, t]));
    expect(tags.get('capped_tag')).toMatchObject({ owner: 'steward-sue', category: '高净值 客户' });
    expect(tags.get('team_owned')?.owner).toBe('wealth-data');
    await refused(
      'BAD_USER_INPUT',
      'mutation($v: Int!) { updateTag(key: "team_owned", expectedVersion: $v, input: { owner: "not a slug" }) { version } }',
      { v: 1 },
      keys.steward,
    );

    await ok(keys.steward, 'mutation { submitTag(key: "team_owned", expectedVersion: 1) { status } }');
    const submitted = await state();
    expect((await refused('BAD_USER_INPUT', REJECT, { key: 'team_owned', v: 1, reason: 'r'.repeat(1001) })).message).toBe(
      'reason: at most 1000 characters, got 1001',
    );
    expect(await state()).toEqual(submitted);
    expect((await ok(keys.admin, REJECT, { key: 'team_owned', v: 1, reason: 'Needs a narrower rule.' })).rejectTag.status).toBe('DRAFT');
  });
});
