import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { domainTagRuntime } from '../api/domain-tag-runtime.ts';
import { parseRule } from '../modeling/conditions/parse-rule.ts';
import { viewerOf } from '../services/access.ts';
import { audienceComparison } from '../services/audience-comparison.ts';
import { createAudience } from '../services/audiences.ts';
import { cubeSql } from '../services/insight-cube.ts';
import { resolveFeatures } from '../services/insight-features.ts';
import { insightRelation, type RelationSpec } from '../services/insight-relation.ts';
import type { TagRuntime } from '../services/tag-runtime.ts';

/**
 * The relation insight counts over (`insightRelation`): over tags and audiences only it reads
 * the profile rows alone, without the join to the customers table, and counts exactly what
 * the joined shape counts on the demo data: customers whose profile has no tags at all, or
 * lacks some, and a customer registered after the snapshot (no profile row: in neither).
 * With a dimension, a rule on one or a scope it still joins the customers.
 */

const TAG_FEATURES = [
  'customer.tag.aum_tier',
  'customer.tag.preferred_product_type',
  'customer.tag.dormant_90d',
  'customer.tag.aum_amount',
  'customer.tag.purchase_amount_90d',
];
const COUNTS = {
  n: sql`COUNT(*)`,
  target: sql`COUNT(*) FILTER (WHERE t)`,
  reference: sql`COUNT(*) FILTER (WHERE r)`,
  rest: sql`COUNT(*) FILTER (WHERE r AND NOT t)`,
};

await describeEachEngine('insight relation on %s', (engine) => {
  let database: TestDatabase;
  let runtime: TagRuntime;
  const analyst = viewerOf({ name: 'analyst-1', role: 'analyst', clearance: 'internal', via: 'key' }, 10);
  const operator = viewerOf({ name: 'operator-1', role: 'operator', clearance: 'personal', via: 'key' }, 10);

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: 600, seed: 17 });
    await materializeDomain(database, bundledDomain());
    // Customers without any tag value, and some without their numeric tags, in the served snapshot.
    await sql`UPDATE strata.customer_profiles SET tags = '{}'::jsonb WHERE customer_id IN (SELECT customer_id FROM strata.current_profiles ORDER BY customer_id LIMIT 25)`.execute(
      database.db,
    );
    await sql`UPDATE strata.customer_profiles SET tags = tags - 'aum_amount' - 'dormant_90d'
      WHERE customer_id IN (SELECT customer_id FROM strata.current_profiles ORDER BY customer_id DESC LIMIT 40)`.execute(database.db);
    // A customer registered after the snapshot: no profile row, so no insight counts them.
    await sql`INSERT INTO wealth.customers (customer_id, registered_at, channel, city_tier, age_band, gender, risk_level, account_class)
      VALUES ('C_AFTER_SNAPSHOT', now(), 'app', 1, '25-34', 'f', 'C3', 'type1')`.execute(database.db);
    runtime = domainTagRuntime(database, bundledDomain());
    await createAudience(runtime, operator, { key: 'affluent_up', rule: parseRule({ tag: 'aum_tier', op: 'IN', values: ['affluent', 'hnw', 'uhnw'] }) });
  }, 300_000);
  afterAll(() => database?.dispose());

  const relationOf = async (features: readonly string[], groups: RelationSpec['groups'], joinSubject: boolean) => {
    const live = (await runtime.registry()).live;
    const resolved = resolveFeatures(runtime.subject, live, features, [], operator);
    const asOf = String((await sql<{ as_of: string }>`SELECT CAST(as_of AS text) AS as_of FROM strata.profile_snapshot`.execute(database.db)).rows[0]?.as_of);
    const relation = insightRelation({ subject: runtime.subject, live, features: resolved, groups, asOf, scope: undefined, joinSubject });
    return { relation, features: resolved };
  };
  const cubeRows = async (features: readonly string[], groups: RelationSpec['groups'], joinSubject: boolean) => {
    const { relation, features: resolved } = await relationOf(features, groups, joinSubject);
    const statement = cubeSql({ relation, features: resolved, where: sql`t OR r`, counts: COUNTS });
    const { rows } = await statement.execute(database.db);
    const text = statement.compile(database.db).sql;
    return { rows: rows.map((r) => JSON.stringify(r)).sort(), joins: /"wealth"\."customers"/.test(text) };
  };

  it('reads the profile rows alone over tags, counting exactly what the join to the customers counts', async () => {
    const groups: RelationSpec['groups'] = {
      t: { kind: 'rule', rule: parseRule({ tag: 'aum_tier', op: 'IN', values: ['affluent', 'hnw', 'uhnw'] }) },
      r: { kind: 'all' },
    };
    const alone = await cubeRows(TAG_FEATURES, groups, false);
    const joined = await cubeRows(TAG_FEATURES, groups, true);
    expect(alone.joins).toBe(false);
    expect(joined.joins).toBe(true);
    expect(alone.rows).toEqual(joined.rows);
    // Every profile row counted once, the customer without one not at all; the tagless ones under "no value".
    const totals = alone.rows.map((r) => JSON.parse(r) as Record<string, unknown>).find((r) => Number(r.grouping) === 2 ** TAG_FEATURES.length - 1);
    const profiles = Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.current_profiles`.execute(database.db)).rows[0]?.n);
    expect(Number(totals?.n)).toBe(profiles);
    const noTier = alone.rows.map((r) => JSON.parse(r) as Record<string, unknown>).find((r) => Number(r.grouping) === 15 && r.f0 === null);
    expect(Number(noTier?.n)).toBeGreaterThanOrEqual(25);
  });

  it('reads an audience group from the profile rows alone too, and joins the customers for a dimension or a rule on one', async () => {
    const audience: RelationSpec['groups'] = { t: { kind: 'audience', key: 'affluent_up', rule: null }, r: { kind: 'all' } };
    const alone = await cubeRows(TAG_FEATURES.slice(0, 3), audience, false);
    expect(alone.joins).toBe(false);
    expect(alone.rows).toEqual((await cubeRows(TAG_FEATURES.slice(0, 3), audience, true)).rows);
    const dimension = await cubeRows(['customer.channel', ...TAG_FEATURES.slice(0, 2)], audience, false);
    expect(dimension.joins).toBe(true);
    const onDimension: RelationSpec['groups'] = {
      t: { kind: 'rule', rule: parseRule({ dimension: 'customer.channel', op: 'EQ', values: ['app'] }) },
      r: { kind: 'all' },
    };
    expect((await cubeRows(TAG_FEATURES.slice(0, 2), onDimension, false)).joins).toBe(true);
  });

  it('gives the comparison over tags the counts of the customers joined to their profiles', async () => {
    const comparison = await audienceComparison(runtime, analyst, {
      target: { rule: parseRule({ tag: 'dormant_90d', op: 'EQ', values: ['true'] }) },
      reference: { all: true },
      features: ['customer.tag.aum_tier'],
    });
    const { rows } = await sql<{ value: string | null; n: number; target: number }>`
      SELECT p.tags ->> 'aum_tier' AS value, COUNT(*) AS n, COUNT(*) FILTER (WHERE p.tags ->> 'dormant_90d' = 'true') AS target
      FROM wealth.customers c JOIN strata.current_profiles p ON p.customer_id = c.customer_id GROUP BY 1`.execute(database.db);
    const shown = comparison.values.filter((v) => !v.suppressed);
    expect(shown.length).toBeGreaterThan(1);
    for (const v of shown) {
      const want = rows.find((r) => r.value === v.value);
      expect([v.value, v.referenceCustomers, v.targetCustomers]).toEqual([v.value, Number(want?.n), Number(want?.target)]);
    }
    expect(comparison.targetCustomers).toBe(rows.reduce((s, r) => s + Number(r.target), 0));
  });
});
