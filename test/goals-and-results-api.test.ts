import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { readFileSync } from 'node:fs';

/** The ```graphql blocks of one README section, in order. */
function readmeSection(title: string): string[] {
  const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = text.indexOf(`\n## ${title}\n`);
  const end = text.indexOf('\n## ', start + 1);
  expect(start, title).toBeGreaterThan(0);
  return [...text.slice(start, end).matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

type Key = 'operator' | 'analyst' | 'app';

/** Succeeded purchase amount in `[from, to)` of Shanghai days, summed here independently of the semantic layer. */
async function purchaseAmount(server: DemoServer<Key>, from: string, to: string): Promise<number> {
  return (await purchases(server, from, to)).total;
}

/** The same, with the number of distinct purchasers (the small-cell count). */
async function purchases(server: DemoServer<Key>, from: string, to: string): Promise<{ total: number; purchasers: number }> {
  const { rows } = await sql<{ total: string | null; purchasers: number }>`
    SELECT SUM(amount)::text AS total, COUNT(DISTINCT customer_id)::int AS purchasers FROM wealth.transactions
    WHERE txn_type = 'purchase' AND status = 'succeeded'
      AND (occurred_at AT TIME ZONE 'Asia/Shanghai')::date >= ${from}::date AND (occurred_at AT TIME ZONE 'Asia/Shanghai')::date < ${to}::date`.execute(
    server.database.db,
  );
  return { total: Number(rows[0]?.total ?? 0), purchasers: Number(rows[0]?.purchasers ?? 0) };
}

const months = [
  ['goal_jan', '2026-01-01', '2026-02-01'],
  ['goal_feb', '2026-02-01', '2026-03-01'],
  ['goal_mar', '2026-03-01', '2026-04-01'],
] as const;

await describeEachEngine('goals and experiment results through GraphQL on %s', (engine) => {
  let server: DemoServer<Key>;
  const { post, ok } = graphqlClient(() => server.base);
  const as = (who: Key) => (query: string, variables?: Record<string, unknown>) => ok(server.keys[who], query, variables);
  const codeOf = async (who: Key, query: string, variables?: Record<string, unknown>) =>
    (await post(server.keys[who], query, variables)).errors?.map((e) => e.extensions?.code);

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 300,
      seed: 7,
      keys: { operator: ['g-operator', 'operator'], analyst: ['g-analyst', 'analyst'], app: ['g-app', 'app'] },
    });
  }, 300_000);
  afterAll(() => server?.close());

  it('reads a goal tree: actual through the semantic layer, progress, and each child’s contribution', async () => {
    const create = 'mutation($i: CreateGoalInput!) { createGoal(input: $i) { key version parent } }';
    await as('operator')(create, { i: { key: 'goal_q1', metric: 'purchase_amount', target: 5_000_000, period: { from: '2026-01-01', to: '2026-04-01' } } });
    for (const [key, from, to] of months)
      await as('operator')(create, { i: { key, metric: 'purchase_amount', target: 1_500_000, period: { from, to }, parent: 'goal_q1' } });
    const read = '{ goals(keys: ["goal_q1"]) { key metric target period { from to } actual progress parent children { key actual contribution } } }';
    const { goals } = await as('operator')(read);
    const quarter = await purchaseAmount(server, '2026-01-01', '2026-04-01');
    expect(quarter).toBeGreaterThan(0);
    const [q1] = goals;
    expect(q1.actual).toBeCloseTo(quarter, 2);
    expect(q1.progress).toBeCloseTo(quarter / 5_000_000, 10);
    expect(q1.parent).toBeNull();
    expect(q1.children.map((c: { key: string }) => c.key)).toEqual(['goal_jan', 'goal_feb', 'goal_mar']);
    for (const [i, [, from, to]] of months.entries()) {
      const month = await purchaseAmount(server, from, to);
      expect(q1.children[i].actual).toBeCloseTo(month, 2);
      expect(q1.children[i].contribution).toBeCloseTo(month / quarter, 10);
    }
    // The months partition the quarter: their contributions add up to 1.
    expect(q1.children.reduce((s: number, c: { contribution: number }) => s + c.contribution, 0)).toBeCloseTo(1, 10);
    // An analyst reads through the small-cell threshold (k = 10): a month with fewer purchasers shows no actual.
    const analyst = (await as('analyst')(read)).goals[0];
    expect(analyst.actual).toBeCloseTo(quarter, 2);
    let hidden = 0;
    for (const [i, [, from, to]] of months.entries()) {
      const month = await purchases(server, from, to);
      if (month.purchasers < 10) hidden++;
      expect(analyst.children[i].actual, `${from}: ${month.purchasers} purchasers`).toEqual(month.purchasers < 10 ? null : q1.children[i].actual);
    }
    expect(hidden).toBeGreaterThan(0);
  });

  it('updates under optimistic concurrency, audits every change and refuses bad input without changing anything', async () => {
    const update = 'mutation($k: String!, $v: Int!, $i: UpdateGoalInput!) { updateGoal(key: $k, expectedVersion: $v, input: $i) { version target parent } }';
    const changed = await as('operator')(update, { k: 'goal_jan', v: 1, i: { target: 1_600_000 } });
    expect(changed.updateGoal).toEqual({ version: 2, target: 1_600_000, parent: 'goal_q1' });
    expect(await codeOf('operator', update, { k: 'goal_jan', v: 1, i: { target: 1 } })).toEqual(['CONFLICT']);
    expect(await codeOf('operator', update, { k: 'goal_q1', v: 1, i: { parent: 'goal_jan' } })).toEqual(['BAD_USER_INPUT']);
    expect(await codeOf('operator', update, { k: 'goal_jan', v: 2, i: { parent: 'no_such_goal' } })).toEqual(['NOT_FOUND']);
    expect(await codeOf('operator', update, { k: 'goal_jan', v: 2, i: { metric: 'no_such_metric' } })).toEqual(['UNKNOWN_MEMBER']);
    expect(await codeOf('operator', update, { k: 'goal_jan', v: 2, i: { period: { from: '2026-02-01', to: '2026-01-01' } } })).toEqual(['BAD_USER_INPUT']);
    const create = 'mutation($i: CreateGoalInput!) { createGoal(input: $i) { key } }';
    expect(
      await codeOf('operator', create, { i: { key: 'goal_jan', metric: 'purchase_amount', target: 1, period: { from: '2026-01-01', to: '2026-02-01' } } }),
    ).toEqual(['CONFLICT']);
    expect(
      await codeOf('operator', create, { i: { key: 'Bad Key', metric: 'purchase_amount', target: 1, period: { from: '2026-01-01', to: '2026-02-01' } } }),
    ).toEqual(['BAD_USER_INPUT']);
    expect(
      await codeOf('operator', create, { i: { key: 'goal_x', metric: 'purchase_amount', target: 1, period: { from: '2026-13-01', to: '2027-02-01' } } }),
    ).toEqual(['BAD_USER_INPUT']);
    expect(
      await codeOf('analyst', create, { i: { key: 'goal_y', metric: 'purchase_amount', target: 1, period: { from: '2026-01-01', to: '2026-02-01' } } }),
    ).toEqual(['FORBIDDEN']);
    const { goals } = await as('analyst')('{ goals { key version target parent } }');
    expect(goals.map((g: { key: string }) => g.key)).toEqual(['goal_feb', 'goal_jan', 'goal_mar', 'goal_q1']);
    expect(goals.find((g: { key: string }) => g.key === 'goal_jan')).toEqual({ key: 'goal_jan', version: 2, target: 1_600_000, parent: 'goal_q1' });
    const audit = await server.database.db
      .selectFrom('strata.audit_log')
      .select(['action', 'version', 'actor'])
      .where('kind', '=', 'goal')
      .where('key', '=', 'goal_jan')
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { action: 'create', version: 1, actor: 'g-operator' },
      { action: 'update', version: 2, actor: 'g-operator' },
    ]);
  });

  it("serves the demo experiment's results (the decision layer's published definition) to analysts from logged exposures, and refuses apps", async () => {
    const db = server.database.db;
    const customers = (await db.selectFrom('wealth.customers').select('customer_id').orderBy('customer_id').limit(60).execute()).map((r) => r.customer_id);
    await db
      .insertInto('wealth.app_events')
      .values(
        customers.map((c, i) => ({
          event_id: `exp-${c}`,
          customer_id: c,
          event_name: 'placement_impression',
          occurred_at: '2026-10-20T02:00:00Z',
          channel: 'app',
          placement_id: 'home_banner',
          properties: JSON.stringify({ experiment: 'home_banner_copy', variant: i % 2 === 0 ? 'control' : 'social_proof', decision_id: `exp-${c}` }),
        })),
      )
      .execute();
    const { experimentResults } = await as('analyst')(
      '{ experimentResults(key: "home_banner_copy") { key goal { kind name windowDays test } variants { key exposures suppressed } srm { chiSquare pValue flagged } multipleExposures } }',
    );
    expect(experimentResults.goal).toEqual({ kind: 'EVENT', name: 'purchase_success', windowDays: 7, test: 'TWO_PROPORTION_Z' });
    expect(experimentResults.variants.map((v: { exposures: number }) => v.exposures)).toEqual([30, 30]);
    expect(experimentResults.srm).toEqual({ chiSquare: 0, pValue: 1, flagged: false });
    expect(await codeOf('app', '{ experimentResults(key: "home_banner_copy") { key } }')).toEqual(['FORBIDDEN']);
    expect(await codeOf('analyst', '{ experimentResults(key: "nope") { key } }')).toEqual(['NOT_FOUND']);
  });

  it("runs README's experiment results and goals examples without errors", async () => {
    for (const query of [...readmeSection('Experiment results'), ...readmeSection('Goals (目标管理)')]) await as('operator')(query);
    const { experimentResults } = await as('analyst')('{ experimentResults(key: "home_banner_copy") { variants { key } guardrails { metric test } } }');
    expect(experimentResults.variants.map((v: { key: string }) => v.key)).toEqual(['control', 'social_proof']);
    expect(experimentResults.guardrails).toEqual([{ metric: 'placement_ctr', test: 'DELTA_RATIO' }]);
  });
});
