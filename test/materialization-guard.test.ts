import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { sql, type RawBuilder } from 'kysely';
import { materializeDomain } from '../api/materialize-domain.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import type { TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient, type GqlError } from './support/graphql-client.ts';
import { lastCommonDataDate } from './support/data-dates.ts';

/**
 * The materialization guard of issue 13 over HTTP: the default as-of date is the last date
 * every source has data (one event stamped now does not move it: observation 4), an as-of
 * outside the data range is refused, a run that moves a tag's values too far is held, unread,
 * until an approver publishes it, and the CLI's --force publishes regardless.
 */

const CUSTOMERS = 800;
const SEED = 7;

const RUN_FIELDS = 'runId asOf status published customers coverage drift message publishedBy';
const MATERIALIZE = `mutation Materialize($asOf: String) { materializeTags(asOf: $asOf) { ${RUN_FIELDS} } }`;
const PUBLISH = `mutation Publish($runId: Int!) { publishMaterialization(runId: $runId) { ${RUN_FIELDS} } }`;
const PROFILES = `query Profiles($ids: [String!]!) { customers(ids: $ids) { id tags { key value } audiences } }`;
const AUDIENCE_SIZE = `query Size($key: String!) { audience(key: $key) { size } }`;
const CREATE_AUDIENCE = `mutation Create($input: CreateAudienceInput!) { createAudience(input: $input) { key size } }`;
const INSIGHT = `query Insight($audience: String!) { audienceInsight(audience: $audience, reference: ALL_CUSTOMERS, tags: ["dormant_90d"]) { tag value audienceShare referenceShare } }`;
const BY_TIER = `{ metrics(query: { metrics: ["purchase_amount"], groupBy: [{ dimension: "customer.tag.aum_tier" }] }) { rows } }`;
const TRACK = `mutation Track($events: [TrackEventInput!]!) { trackEvents(events: $events) { accepted rejected { code message } } }`;

type Coverage = Record<string, { covered: number; values: Record<string, number> }>;
interface Run {
  runId: number;
  asOf: string;
  status: string;
  published: boolean;
  customers: number;
  coverage: Coverage;
  drift: Record<string, number>;
  message: string | null;
  publishedBy: string | null;
}

const IDS = Array.from({ length: 60 }, (_, i) => `c${String(i * 13 + 1).padStart(6, '0')}`);

/** Total-variation distance of one tag between two runs (null counted as a value), written from its definition. */
function totalVariation(a: Run, b: Run, tag: string): number {
  const shares = (run: Run) => {
    const entry = run.coverage[tag] ?? { covered: 0, values: {} };
    const counts: [string, number][] = [...Object.entries(entry.values), ['<null>', run.customers - entry.covered]];
    return new Map(counts.map(([v, n]) => [v, n / run.customers]));
  };
  const [x, y] = [shares(a), shares(b)];
  return [...new Set([...x.keys(), ...y.keys()])].reduce((sum, v) => sum + Math.abs((x.get(v) ?? 0) - (y.get(v) ?? 0)), 0) / 2;
}

await describeEachEngine('materialization guard on %s', (engine) => {
  type Key = 'operator' | 'approver' | 'steward' | 'app' | 'analyst';
  let server: DemoServer<Key>;
  let database: TestDatabase;
  let base: string;
  const keys = {} as DemoServer<Key>['keys'];
  let first: Run;

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: CUSTOMERS,
      seed: SEED,
      keys: {
        operator: ['ops-olga', 'operator'],
        approver: ['approver-ann', 'approver'],
        steward: ['steward-sam', 'steward'],
        app: ['mobile-app', 'app'],
        analyst: ['analyst-al', 'analyst'],
      },
    });
    ({ database, base } = server);
    Object.assign(keys, server.keys);
  });
  afterAll(() => server?.close());

  const { post, ok } = graphqlClient(() => base);
  const materialize = async (asOf?: string): Promise<Run> => (await ok(keys.operator, MATERIALIZE, asOf ? { asOf } : {})).materializeTags;
  const refused = async (token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlError> => {
    const body = await post(token, query, variables);
    expect(body.errors?.length ?? 0, JSON.stringify(body.data)).toBeGreaterThan(0);
    expect(body.data ?? null).toBeNull();
    return body.errors?.[0] as GqlError;
  };
  const count = async (statement: RawBuilder<{ n: number }>) => Number((await statement.execute(database.db)).rows[0]?.n);
  /** The pointer, the runs and the stored rows: what a refused request must leave alone. */
  const platformState = async () => ({
    snapshot: (await sql`SELECT run_id, as_of::text AS as_of FROM strata.profile_snapshot`.execute(database.db)).rows,
    runs: (await sql`SELECT run_id, status FROM strata.tag_runs ORDER BY run_id`.execute(database.db)).rows,
    rows: await count(sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.customer_profiles`),
  });
  /** What every reader of the snapshot serves: profiles, an audience's size and insight, tag dimensions of metrics. */
  const readers = async () => ({
    profiles: (await ok(keys.app, PROFILES, { ids: IDS })).customers,
    size: (await ok(keys.operator, AUDIENCE_SIZE, { key: 'affluent_plus' })).audience.size as number,
    insight: (await ok(keys.operator, INSIGHT, { audience: 'affluent_plus' })).audienceInsight,
    byTier: (await ok(keys.analyst, BY_TIER)).metrics.rows,
  });
  const runStatus = async (runId: number) =>
    (await sql<{ status: string }>`SELECT status FROM strata.tag_runs WHERE run_id = ${runId}`.execute(database.db)).rows[0]?.status;
  const rowsOf = (runId: number) => count(sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.customer_profiles WHERE run_id = ${runId}`);

  it('publishes the first run as of the last date every source the tags read has data', async () => {
    first = await materialize();
    expect(first).toMatchObject({
      asOf: await lastCommonDataDate(database.db),
      status: 'PUBLISHED',
      published: true,
      customers: CUSTOMERS,
      drift: {},
      message: null,
    });
    expect(
      (await ok(keys.operator, CREATE_AUDIENCE, { input: { key: 'affluent_plus', rule: { tag: 'aum_tier', op: 'IN', values: ['affluent', 'hnw', 'uhnw'] } } }))
        .createAudience.size,
    ).toBeGreaterThan(30);
  });

  it('keeps the as-of date and every distribution when an event is stamped now and rows are stamped in the future (observation 4)', async () => {
    const now = new Date().toISOString();
    const tracked = (
      await ok(keys.app, TRACK, { events: [{ eventId: 'obs4-now', name: 'app_open', customerId: 'c000001', occurredAt: now, channel: 'app', properties: {} }] })
    ).trackEvents;
    expect(tracked).toEqual({ accepted: 1, rejected: [] });
    // Loads that bypass the API: one row of each source stamped far in the future.
    const { product_id: product } = await database.db.selectFrom('wealth.products').select('product_id').limit(1).executeTakeFirstOrThrow();
    await sql`INSERT INTO wealth.holdings_daily (customer_id, product_id, as_of, market_value) VALUES ('c000002', ${product}, '2099-01-01', 9000000)`.execute(
      database.db,
    );
    await sql`INSERT INTO wealth.transactions (txn_id, customer_id, product_id, txn_type, amount, status, channel, occurred_at)
      VALUES ('t-future', 'c000002', ${product}, 'purchase', 100, 'succeeded', 'app', '2099-01-01T00:00:00Z')`.execute(database.db);
    await sql`INSERT INTO wealth.app_events (event_id, customer_id, event_name, occurred_at, channel) VALUES ('e-future', 'c000002', 'app_open', '2099-01-01T00:00:00Z', 'app')`.execute(
      database.db,
    );
    const todayInShanghai = (await sql<{ d: string }>`SELECT ((now() AT TIME ZONE 'Asia/Shanghai')::date)::text AS d`.execute(database.db)).rows[0]?.d;
    const eventsUpToToday = (
      await sql<{
        d: string;
      }>`SELECT (MAX(occurred_at AT TIME ZONE 'Asia/Shanghai')::date)::text AS d FROM wealth.app_events WHERE occurred_at < '2099-01-01'`.execute(database.db)
    ).rows[0]?.d;
    expect(eventsUpToToday).toBe(todayInShanghai);
    expect(todayInShanghai! > first.asOf).toBe(true);

    // Read after the loads (the future purchase counts in all-time metrics) and before the run.
    const before = await readers();
    const run = await materialize();
    expect(run).toMatchObject({ asOf: first.asOf, status: 'PUBLISHED', customers: CUSTOMERS, message: null });
    expect(run.coverage).toEqual(first.coverage);
    expect(Object.values(run.drift).every((share) => share === 0)).toBe(true);
    expect(await readers()).toEqual(before);
  });

  it('refuses an as-of outside the data range or off the calendar, publishing nothing', async () => {
    const before = await platformState();
    const dayAfter = new Date(Date.parse(`${first.asOf}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    for (const asOf of ['1900-01-01', '2999-01-01', dayAfter]) {
      const error = await refused(keys.operator, MATERIALIZE, { asOf });
      expect(error.extensions?.code, asOf).toBe('BAD_USER_INPUT');
      expect(error.message, asOf).toContain(asOf);
      expect(error.message, asOf).toMatch(new RegExp(`data range \\d{4}-\\d{2}-\\d{2} to ${first.asOf}`));
    }
    for (const asOf of ['2026-02-30', '2026-13-01', '2026-6-1', '']) {
      const error = await refused(keys.operator, MATERIALIZE, { asOf });
      expect(error.extensions?.code, asOf).toBe('BAD_USER_INPUT');
      expect(error.message, asOf).toMatch(/calendar date/);
    }
    expect(await platformState()).toEqual(before);
  });

  it('holds a run where every affluent customer turned mass after a partial holdings load, though few customers moved overall', async () => {
    const published = await materialize();
    const before = await readers();
    const state = await platformState();
    await sql`CREATE TABLE public.held_back AS SELECT * FROM wealth.holdings_daily WHERE as_of = ${first.asOf}::date
      AND customer_id IN (SELECT customer_id FROM wealth.holdings_daily WHERE as_of = ${first.asOf}::date GROUP BY 1 HAVING SUM(market_value) >= 10000)`.execute(
      database.db,
    );
    await sql`DELETE FROM wealth.holdings_daily h USING public.held_back b WHERE h.customer_id = b.customer_id AND h.product_id = b.product_id AND h.as_of = b.as_of`.execute(
      database.db,
    );
    expect(await lastCommonDataDate(database.db)).toBe(first.asOf);

    const held = await materialize();
    expect(held).toMatchObject({ asOf: first.asOf, status: 'HELD', published: false, publishedBy: null });
    expect(held.coverage.aum_tier?.values).toEqual({ mass: CUSTOMERS });
    expect(held.drift.aum_tier).toBe(1);
    expect(held.message).toMatch(/held/);
    expect(held.message).toMatch(/aum_tier 100\.0% \(affluent \d+ -> 0 customers/);
    // Measured over all customers, the collapse is small: a guard on that alone would have published it.
    expect(totalVariation(published, held, 'aum_tier')).toBeLessThan(0.1);
    expect(await readers()).toEqual(before);
    expect((await platformState()).snapshot).toEqual(state.snapshot);
    expect(await rowsOf(held.runId)).toBe(CUSTOMERS);

    await sql`INSERT INTO wealth.holdings_daily SELECT * FROM public.held_back`.execute(database.db);
    await sql`DROP TABLE public.held_back`.execute(database.db);
    const repaired = await materialize();
    expect(repaired).toMatchObject({ status: 'PUBLISHED', coverage: published.coverage });
    // The held run can no longer be published, and its rows are gone.
    expect(await runStatus(held.runId)).toBe('superseded');
    expect(await rowsOf(held.runId)).toBe(0);
    const stale = await refused(keys.approver, PUBLISH, { runId: held.runId });
    expect(stale.extensions?.code).toBe('CONFLICT');
    expect(stale.message).toContain(String(repaired.runId));
  });

  it('holds a run months away until an approver publishes it, the newest only; nothing reads it before', async () => {
    const before = await readers();
    const older = await materialize('2025-11-30');
    expect(older).toMatchObject({ status: 'HELD', published: false });
    expect(Object.keys(older.drift).sort()).toEqual(Object.keys(first.coverage).sort());
    expect(Object.values(older.drift).some((share) => share > 0.2)).toBe(true);
    const held = await materialize('2025-12-15');
    expect(held.status).toBe('HELD');
    expect(await runStatus(older.runId)).toBe('superseded');
    expect(await readers()).toEqual(before);
    // An audience created while the run waits joins it too, as of the held run's date.
    await ok(keys.operator, CREATE_AUDIENCE, { input: { key: 'dormant_pool', rule: { tag: 'dormant_90d', op: 'EQ', values: ['true'] } } });

    const state = await platformState();
    for (const token of [keys.steward, keys.operator, keys.app])
      expect((await refused(token, PUBLISH, { runId: held.runId })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(null, PUBLISH, { runId: held.runId })).extensions?.code).toBe('UNAUTHENTICATED');
    expect((await refused(keys.approver, PUBLISH, { runId: 999_999 })).extensions?.code).toBe('NOT_FOUND');
    const notNewest = await refused(keys.approver, PUBLISH, { runId: older.runId });
    expect(notNewest.extensions?.code).toBe('CONFLICT');
    expect(notNewest.message).toContain(`run ${held.runId}`);
    expect(await platformState()).toEqual(state);

    const published = (await ok(keys.approver, PUBLISH, { runId: held.runId })).publishMaterialization as Run;
    expect(published).toMatchObject({
      runId: held.runId,
      asOf: '2025-12-15',
      status: 'PUBLISHED',
      published: true,
      publishedBy: 'approver-ann',
      drift: held.drift,
      message: held.message,
    });
    expect((await platformState()).snapshot).toEqual([{ run_id: held.runId, as_of: '2025-12-15' }]);
    const after = await readers();
    expect(after.profiles).not.toEqual(before.profiles);
    expect(after.byTier).not.toEqual(before.byTier);
    const inRun = (tag: string, values: string[]) =>
      count(sql<{ n: number }>`SELECT COUNT(*) AS n FROM wealth.customers c
      JOIN strata.customer_profiles p ON p.customer_id = c.customer_id AND p.run_id = ${held.runId} WHERE p.tags ->> ${tag} IN (${sql.join(values)})`);
    expect(after.size).toBe(await inRun('aum_tier', ['affluent', 'hnw', 'uhnw']));
    const dormant = (await ok(keys.operator, AUDIENCE_SIZE, { key: 'dormant_pool' })).audience.size;
    expect(dormant).toBeGreaterThan(0);
    expect(dormant).toBe(await inRun('dormant_90d', ['true']));
    // Only the snapshot's rows remain; publishing twice is a conflict.
    expect((await platformState()).rows).toBe(CUSTOMERS);
    expect((await refused(keys.approver, PUBLISH, { runId: held.runId })).extensions?.code).toBe('CONFLICT');
  });

  it('publishes regardless with the CLI materialize --force, and says it forced', async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    let run: Awaited<ReturnType<typeof materializeDomain>> | undefined;
    try {
      run = await materializeDomain(database, bundledDomain(), { force: true });
    } finally {
      log.mockRestore();
    }
    expect(run).toMatchObject({ asOf: first.asOf, status: 'published' });
    expect(run.message).toMatch(/^published by force although .*aum_tier/);
    expect(lines.join('\n')).toMatch(/forced: published by force/);
    expect((await platformState()).snapshot).toEqual([{ run_id: run.runId, as_of: first.asOf }]);
    expect(process.exitCode ?? 0).toBe(0);
  });
});
