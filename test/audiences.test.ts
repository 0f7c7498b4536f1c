import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient, type GqlError } from './support/graphql-client.ts';

/**
 * API.md's audiences end to end over HTTP: an audience is a rule over tags, its size and
 * members come from the current profile snapshot (checked against SQL), members page in id
 * order, profiles list the audiences a customer is in, and audienceInsight compares tag
 * value shares with a reference, with small cells suppressed.
 */

const CUSTOMERS = 800;
const SEED = 7;
const SMALL_CELL = 10;
const CAUTIOUS = ['C1', 'C2', 'C3'];

interface InsightRow {
  tag: string;
  value: string | null;
  audienceCustomers: number;
  audienceShare: number;
  referenceShare: number;
  tgi: number | null;
}
interface Page {
  edges: { node: { id: string }; cursor: string }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const CREATE = `mutation Create($input: CreateAudienceInput!) { createAudience(input: $input) { key size } }`;
const AUDIENCE = `query Audience($key: String!) { audience(key: $key) { key size rule } }`;
const MEMBERS = `query Members($key: String!, $after: String) { audience(key: $key) { members(first: 50, after: $after) { edges { node { id } cursor } pageInfo { hasNextPage endCursor } } } }`;
const INSIGHT = `query Insight($audience: String!, $reference: InsightReference, $referenceAudience: String, $tags: [String!]!) {
  audienceInsight(audience: $audience, reference: $reference, referenceAudience: $referenceAudience, tags: $tags) {
    tag value audienceCustomers audienceShare referenceShare tgi } }`;
const PROFILE = `query Profile($id: String!) { customer(id: $id) { id audiences } }`;
const MATERIALIZE = `mutation { materializeTags { asOf customers } }`;

const DORMANT_CAUTIOUS_RULE = {
  and: [
    { tag: 'dormant_90d', op: 'EQ', values: ['true'] },
    { tag: 'risk_level', op: 'IN', values: CAUTIOUS },
  ],
};

await describeEachEngine('audiences over HTTP on %s', (engine) => {
  let server: DemoServer<'operator' | 'steward' | 'analyst' | 'app'>;
  let database: TestDatabase;
  let base: string;
  let asOf: string;
  const keys = {} as DemoServer<'operator' | 'steward' | 'analyst' | 'app'>['keys'];

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: CUSTOMERS,
      seed: SEED,
      keys: { operator: ['ops-olga', 'operator'], steward: ['steward-sam', 'steward'], analyst: ['analyst-al', 'analyst'], app: ['mobile-app', 'app'] },
    });
    ({ database, base } = server);
    Object.assign(keys, server.keys);
    const run = await post(keys.operator, MATERIALIZE);
    expect(run.errors, JSON.stringify(run.errors)).toBeUndefined();
    asOf = run.data?.materializeTags.asOf;
  });
  afterAll(() => server?.close());

  const { post, ok } = graphqlClient(() => base);
  const refusedWith = async (code: string, token: string | null, query: string, variables?: Record<string, unknown>) => {
    const body = await post(token, query, variables);
    expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe(code);
    expect(body.data ?? null).toBeNull();
    return body.errors?.[0] as GqlError;
  };
  /** Insight as an analyst sees it: without personal clearance, so small cells are suppressed. */
  const insight = async (variables: Record<string, unknown>): Promise<InsightRow[]> => (await ok(keys.analyst, INSIGHT, variables)).audienceInsight;

  /** The current snapshot's profiles, read directly. */
  const snapshotProfiles = async () => {
    const { rows } = await sql<{ customer_id: string; tags: Record<string, unknown>; audiences: string[] }>`
      SELECT customer_id, tags, audiences FROM strata.customer_profiles
      WHERE run_id = (SELECT run_id FROM strata.profile_snapshot WHERE id = 1) ORDER BY customer_id`.execute(database.db);
    return rows;
  };
  /** Customers that are dormant by DOMAIN.md and cautious, straight from the warehouse. */
  const dormantCautiousIds = async (): Promise<string[]> => {
    const { rows } = await sql<{ id: string }>`
      SELECT c.customer_id AS id FROM wealth.customers c
      WHERE c.risk_level IN (${sql.join(CAUTIOUS)})
        AND NOT EXISTS (SELECT 1 FROM wealth.app_events e WHERE e.customer_id = c.customer_id
                          AND (e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN ${asOf}::date - 89 AND ${asOf}::date)
      ORDER BY c.customer_id`.execute(database.db);
    return rows.map((r) => r.id);
  };
  const auditRows = async () => Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.audit_log`.execute(database.db)).rows[0]?.n);

  /** Expected insight cells from the snapshot: per tag value, customers in the audience and in the reference. */
  const expectedCells = (rows: Awaited<ReturnType<typeof snapshotProfiles>>, audience: string, reference: string | null, tags: readonly string[]) => {
    const inAudience = rows.filter((r) => r.audiences.includes(audience));
    const inReference = reference === null ? rows : rows.filter((r) => r.audiences.includes(reference));
    const cells = new Map<string, { tag: string; value: string | null; a: number; r: number }>();
    const cell = (tag: string, value: unknown) => {
      const text = value === null || value === undefined ? null : String(value);
      const id = `${tag}=${text}`;
      if (!cells.has(id)) cells.set(id, { tag, value: text, a: 0, r: 0 });
      return cells.get(id) as { a: number; r: number };
    };
    for (const tag of tags) {
      for (const row of inAudience) if (tag in row.tags) cell(tag, row.tags[tag]).a += 1;
      for (const row of inReference) if (tag in row.tags) cell(tag, row.tags[tag]).r += 1;
    }
    return { cells, audienceSize: inAudience.length, referenceSize: inReference.length };
  };
  const checkInsight = (got: InsightRow[], expected: ReturnType<typeof expectedCells>) => {
    // Ranked from the most over-represented value down.
    for (let i = 1; i < got.length; i += 1) expect(got[i - 1]?.tgi ?? -Infinity).toBeGreaterThanOrEqual(got[i]?.tgi ?? -Infinity);
    const seen = new Set<string>();
    for (const row of got) {
      const id = `${row.tag}=${row.value}`;
      expect(seen.has(id), `${id} listed twice`).toBe(false);
      seen.add(id);
      const want = expected.cells.get(id);
      expect(want, `unexpected cell ${id}`).toBeDefined();
      if (!want) continue;
      expect(row.audienceCustomers, id).toBe(want.a);
      expect(row.audienceCustomers, `${id} is a small cell`).toBeGreaterThanOrEqual(SMALL_CELL);
      const audienceShare = want.a / expected.audienceSize;
      const referenceShare = want.r / expected.referenceSize;
      expect(row.audienceShare, id).toBeCloseTo(audienceShare, 9);
      expect(row.referenceShare, id).toBeCloseTo(referenceShare, 9);
      expect(row.tgi as number, id).toBeCloseTo((100 * audienceShare) / referenceShare, 6);
    }
    // Per tag, the audience size minus the cells shown never singles one out: the values not
    // shown (suppressed, or empty in the audience) are none, or at least two whose audience
    // counts add up to the threshold.
    for (const tag of new Set([...expected.cells.values()].map((c) => c.tag))) {
      const unshown = [...expected.cells.entries()].filter(([id, c]) => c.tag === tag && !seen.has(id)).map(([, c]) => c);
      if (!unshown.some((c) => c.a > 0)) continue;
      expect(unshown.length, `${tag}: one hidden cell could be recovered`).toBeGreaterThanOrEqual(2);
      expect(
        unshown.reduce((n, c) => n + c.a, 0),
        `${tag}: hidden audience cells add up`,
      ).toBeGreaterThanOrEqual(SMALL_CELL);
    }
    const shown = [...seen].filter((id) => !id.endsWith('=null'));
    return shown;
  };

  it('creates an audience whose size equals a SQL count over the snapshot and the warehouse', async () => {
    const created = (
      await ok(keys.operator, CREATE, {
        input: { key: 'dormant_cautious', description: 'Dormant customers with a cautious risk level', rule: DORMANT_CAUTIOUS_RULE },
      })
    ).createAudience;
    const overSnapshot = Number(
      (
        await sql<{ n: number }>`
      SELECT COUNT(*) AS n FROM strata.customer_profiles p
      WHERE p.run_id = (SELECT run_id FROM strata.profile_snapshot WHERE id = 1)
        AND p.tags ->> 'dormant_90d' = 'true' AND p.tags ->> 'risk_level' IN (${sql.join(CAUTIOUS)})`.execute(database.db)
      ).rows[0]?.n,
    );
    expect(created).toEqual({ key: 'dormant_cautious', size: overSnapshot });
    expect(overSnapshot).toBe((await dormantCautiousIds()).length);
    expect(overSnapshot).toBeGreaterThan(100);
    expect(overSnapshot).toBeLessThan(CUSTOMERS);
    const read = (await ok(keys.analyst, AUDIENCE, { key: 'dormant_cautious' })).audience;
    expect(read).toMatchObject({ key: 'dormant_cautious', size: overSnapshot });
  });

  it('returns the rule of an audience in the language it was written in', async () => {
    const read = (await ok(keys.operator, AUDIENCE, { key: 'dormant_cautious' })).audience;
    expect(read.rule).toEqual(DORMANT_CAUTIOUS_RULE);
  });

  it('pages through all members exactly once, in id order, with correct pageInfo', async () => {
    const expected = await dormantCautiousIds();
    const seen: string[] = [];
    const pages: Page[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 100; guard += 1) {
      const page: Page = (await ok(keys.operator, MEMBERS, { key: 'dormant_cautious', after })).audience.members;
      pages.push(page);
      seen.push(...page.edges.map((e) => e.node.id));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      expect(page.edges).toHaveLength(50);
      after = page.pageInfo.endCursor;
    }
    expect(pages).toHaveLength(Math.ceil(expected.length / 50));
    expect(pages.at(-1)?.pageInfo.hasNextPage).toBe(false);
    expect(pages.at(-1)?.edges.length).toBe(expected.length - 50 * (pages.length - 1));
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    // Past the end: nothing more.
    const end = (await ok(keys.operator, MEMBERS, { key: 'dormant_cautious', after: pages.at(-1)?.pageInfo.endCursor })).audience.members;
    expect(end).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    // Member lists are for operators: an analyst may see the size but not the ids.
    await refusedWith('FORBIDDEN', keys.analyst, MEMBERS, { key: 'dormant_cautious', after: null });
  });

  it("lists the audience in a member's profile and not in a non-member's, also after a refresh", async () => {
    const members = await dormantCautiousIds();
    const member = members[0] as string;
    const nonMember = (await snapshotProfiles()).map((r) => r.customer_id).find((id) => !members.includes(id)) as string;
    expect(nonMember).toBeDefined();
    const audiencesOf = async (id: string) => (await ok(keys.app, PROFILE, { id })).customer.audiences as string[];
    expect(await audiencesOf(member)).toContain('dormant_cautious');
    expect(await audiencesOf(nonMember)).not.toContain('dormant_cautious');

    await ok(keys.operator, MATERIALIZE);
    expect(await audiencesOf(member)).toContain('dormant_cautious');
    expect(await audiencesOf(nonMember)).not.toContain('dormant_cautious');
    expect((await ok(keys.operator, AUDIENCE, { key: 'dormant_cautious' })).audience.size).toBe(members.length);
  });

  it('compares tag value shares with all customers: TGI, ranking and small-cell suppression', async () => {
    const tags = ['risk_level', 'aum_tier', 'fund_buyer_30d', 'preferred_product_type'];
    const got = await insight({ audience: 'dormant_cautious', reference: 'ALL_CUSTOMERS', tags });
    const expected = expectedCells(await snapshotProfiles(), 'dormant_cautious', null, tags);
    expect(expected.referenceSize).toBe(CUSTOMERS);
    const shown = checkInsight(got, expected);
    // Cautious levels are over-represented (TGI over 100); C4 and C5 have no members, so no cells.
    const risk = got.filter((r) => r.tag === 'risk_level');
    expect(risk.map((r) => r.value).sort()).toEqual(CAUTIOUS);
    for (const row of risk) expect(row.tgi as number).toBeGreaterThan(100);
    // Some cells are small and must be absent, so suppression is exercised.
    const small = [...expected.cells.entries()].filter(([, c]) => c.a > 0 && c.a < SMALL_CELL);
    expect(small.length).toBeGreaterThan(0);
    for (const [id] of small) expect(shown).not.toContain(id);
    expect(shown.length).toBeGreaterThanOrEqual(4);
    // An operator, cleared for personal data, sees every cell the audience has.
    const full: InsightRow[] = (await ok(keys.operator, INSIGHT, { audience: 'dormant_cautious', reference: 'ALL_CUSTOMERS', tags })).audienceInsight;
    const every = [...expected.cells.entries()]
      .filter(([, c]) => c.a > 0)
      .map(([id]) => id)
      .sort();
    expect(full.map((r) => `${r.tag}=${r.value}`).sort()).toEqual(every);
  });

  it('compares with another audience as the reference', async () => {
    const cautious = (await ok(keys.operator, CREATE, { input: { key: 'cautious', rule: { tag: 'risk_level', op: 'IN', values: CAUTIOUS } } })).createAudience;
    const expectedSize = Number(
      (await sql<{ n: number }>`SELECT COUNT(*) AS n FROM wealth.customers WHERE risk_level IN (${sql.join(CAUTIOUS)})`.execute(database.db)).rows[0]?.n,
    );
    expect(cautious).toEqual({ key: 'cautious', size: expectedSize });
    const tags = ['risk_level', 'aum_tier'];
    const got = await insight({ audience: 'dormant_cautious', reference: 'AUDIENCE', referenceAudience: 'cautious', tags });
    const expected = expectedCells(await snapshotProfiles(), 'dormant_cautious', 'cautious', tags);
    expect(expected.referenceSize).toBe(expectedSize);
    checkInsight(got, expected);
    // Against the cautious base, risk levels are shared almost evenly: TGIs around 100, not all above.
    const risk = got.filter((r) => r.tag === 'risk_level');
    expect(risk.length).toBe(3);
    const againstAll = await insight({ audience: 'dormant_cautious', reference: 'ALL_CUSTOMERS', tags: ['risk_level'] });
    for (const row of risk) expect(row.referenceShare).toBeGreaterThan(againstAll.find((r) => r.value === row.value)?.referenceShare ?? 1);
    await refusedWith('BAD_USER_INPUT', keys.operator, INSIGHT, { audience: 'dormant_cautious', reference: 'AUDIENCE', tags });
  });

  it('refuses unknown tags, unknown audiences, duplicate keys and callers without the role, changing nothing', async () => {
    const unknownTag = await refusedWith('UNKNOWN_MEMBER', keys.operator, INSIGHT, { audience: 'dormant_cautious', tags: ['risk_level', 'risk_lvl'] });
    expect(unknownTag.message).toContain('risk_lvl');
    await refusedWith('NOT_FOUND', keys.operator, INSIGHT, { audience: 'no_such_audience', tags: ['risk_level'] });

    const auditBefore = await auditRows();
    const sizeBefore = (await ok(keys.operator, AUDIENCE, { key: 'dormant_cautious' })).audience.size;
    const duplicate = await refusedWith('CONFLICT', keys.operator, CREATE, {
      input: { key: 'dormant_cautious', rule: { tag: 'dormant_90d', op: 'EQ', values: ['true'] } },
    });
    expect(duplicate.message).toContain('dormant_cautious');
    const inRule = await refusedWith('UNKNOWN_MEMBER', keys.operator, CREATE, {
      input: { key: 'typo_audience', rule: { tag: 'dormant_900d', op: 'EQ', values: ['true'] } },
    });
    expect(inRule.message).toContain('dormant_900d');
    const badRule = await refusedWith('BAD_USER_INPUT', keys.operator, CREATE, {
      input: {
        key: 'bad_audience',
        rule: {
          and: [
            { tag: 'dormant_90d', op: 'EQ', values: ['true'] },
            { tag: 'risk_level', op: 'IN' },
          ],
        },
      },
    });
    expect(badRule.message).toContain('rule.and[1].values');
    await refusedWith('FORBIDDEN', keys.analyst, CREATE, { input: { key: 'analyst_audience', rule: { tag: 'dormant_90d', op: 'EQ', values: ['true'] } } });
    await refusedWith('FORBIDDEN', keys.app, INSIGHT, { audience: 'dormant_cautious', tags: ['risk_level'] });
    await refusedWith('UNAUTHENTICATED', null, AUDIENCE, { key: 'dormant_cautious' });

    expect(await auditRows()).toBe(auditBefore);
    const after = (await ok(keys.operator, AUDIENCE, { key: 'dormant_cautious' })).audience;
    expect(after.size).toBe(sizeBefore);
    for (const key of ['typo_audience', 'bad_audience', 'analyst_audience']) await refusedWith('NOT_FOUND', keys.operator, AUDIENCE, { key });
    // The profiles still carry exactly the audiences that exist.
    const { rows } = await sql<{ audience: string }>`SELECT DISTINCT unnest(audiences) AS audience FROM strata.customer_profiles
      WHERE run_id = (SELECT run_id FROM strata.profile_snapshot WHERE id = 1) ORDER BY 1`.execute(database.db);
    expect(rows.map((r) => r.audience)).toEqual(['cautious', 'dormant_cautious']);
  });
  it('keeps an audience created while a refresh runs in the refreshed snapshot', async () => {
    const rule = { tag: 'risk_level', op: 'IN', values: ['C4', 'C5'] };
    const expectedIds = (
      await sql<{ id: string }>`SELECT customer_id AS id FROM wealth.customers WHERE risk_level IN ('C4', 'C5') ORDER BY 1`.execute(database.db)
    ).rows.map((r) => r.id);
    expect(expectedIds.length).toBeGreaterThan(0);
    // The refresh starts first; the audience is created while it computes the new snapshot.
    const refresh = post(keys.operator, MATERIALIZE);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const created = await post(keys.operator, CREATE, { input: { key: 'adventurous', rule } });
    const refreshed = await refresh;
    expect(refreshed.errors, JSON.stringify(refreshed.errors)).toBeUndefined();
    expect(created.errors, JSON.stringify(created.errors)).toBeUndefined();
    expect(created.data?.createAudience).toEqual({ key: 'adventurous', size: expectedIds.length });
    // Whatever the interleaving, the audience exists now, so the current snapshot must list its members.
    expect((await ok(keys.operator, AUDIENCE, { key: 'adventurous' })).audience.size).toBe(expectedIds.length);
    expect((await ok(keys.app, PROFILE, { id: expectedIds[0] })).customer.audiences).toContain('adventurous');
  });
});
