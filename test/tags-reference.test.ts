/**
 * Independent reference check of customer tags: every core tag of DOMAIN.md ("Core customer
 * tags") is computed here with hand-written SQL straight from its wording, and compared,
 * customer by customer, with what `materializeProfiles` writes to strata.customer_profiles,
 * as of the default date (the latest date with data) and as of an explicit earlier date.
 * Nothing here looks at how the platform compiles a tag; only tag keys come from the domain.
 *
 * Hand-made customers sit exactly on the boundaries the wording talks about (AUM of exactly
 * 10,000 / 500,000 / 6,000,000; a purchase at 23:59 Shanghai on the as-of date and one at
 * 00:00 the next day; a public-fund purchase 29 and 30 days before; a registration 30 days
 * before; events 89 and 90 days before; 364 and 365 days for the preferred product type;
 * exact decimal ties), and their expected values are also written out by hand.
 *
 * The second half checks that the in-memory evaluator (`evaluateRule`, used at request time)
 * gives every demo customer the same tags as the SQL materialization, from the same inputs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { seedDemoData, DEMO_ACTIVITY_LAST_DAY } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { wealthDomain } from '../domains/wealth/index.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { subjectDimension, tagSubject } from '../modeling/tags/tag-subject.ts';
import { materializeProfiles } from '../services/profile-materialization.ts';
import { profileFeaturesSql } from '../modeling/tags/profile-sql.ts';
import { evaluateRule, type CustomerFeatures, type RuleTypes } from '../modeling/conditions/evaluate-rule.ts';
import { aggregateKey, leaves } from '../modeling/conditions/rule.ts';
import { tagRules, tagValueType, type TagDefinition } from '../modeling/tags/tag-definition.ts';
import { orderTags } from '../modeling/tags/check-tag.ts';
import type { DatabaseSchema } from '../store/schema.ts';

// ---------------------------------------------------------------------------------------
// Setup constants

const CUSTOMERS = 2_000;
const SEED = 5;
/** The explicit, earlier as-of date. */
const EXPLICIT_AS_OF = '2026-06-15';
/** The latest date with data in the demo warehouse: the default as-of date. */
const LATEST = DEMO_ACTIVITY_LAST_DAY;

const TAG_KEYS = ['aum_tier', 'fund_buyer_30d', 'dormant_90d', 'new_customer_30d', 'preferred_product_type', 'risk_level'] as const;
type TagKey = (typeof TAG_KEYS)[number];
type TagValue = string | number | boolean | null;
type TagMap = Record<TagKey, TagValue>;

// ---------------------------------------------------------------------------------------
// Hand-written reference SQL, from DOMAIN.md's wording

const ZONE = 'Asia/Shanghai';
const PUBLIC_FUNDS = sql.raw(`('bond_fund', 'equity_fund', 'mixed_fund')`);
const localDate = (column: string) => sql.raw(`((${column}) AT TIME ZONE '${ZONE}')::date`);

/**
 * Every customer's six tags as of `asOf`:
 * - aum_tier: sum of holdings_daily.market_value on as_of = the date; <10k mass, <500k
 *   affluent, <6M hnw, else uhnw; no holdings on that date → mass.
 * - fund_buyer_30d: a succeeded purchase of a bond/equity/mixed fund with a Shanghai date in
 *   [asOf - 29, asOf].
 * - dormant_90d: no app_events row of the customer with a Shanghai date in [asOf - 89, asOf].
 * - new_customer_30d: registered_at's Shanghai date in [asOf - 29, asOf].
 * - preferred_product_type: product_type with the largest sum of succeeded purchase amounts
 *   with a Shanghai date in [asOf - 364, asOf]; ties → first in "C" order; none → null.
 * - risk_level: customers.risk_level.
 */
async function referenceTags(db: Kysely<DatabaseSchema>, asOf: string): Promise<Map<string, TagMap>> {
  const { rows } = await sql<{
    customer_id: string;
    aum_tier: string;
    fund_buyer_30d: boolean;
    dormant_90d: boolean;
    new_customer_30d: boolean;
    preferred_product_type: string | null;
    risk_level: string;
  }>`
    WITH aum AS (
      SELECT h.customer_id, SUM(h.market_value) AS aum
      FROM wealth.holdings_daily h
      WHERE h.as_of = ${asOf}::date
      GROUP BY h.customer_id
    ),
    fund_buyers AS (
      SELECT DISTINCT t.customer_id
      FROM wealth.transactions t
      JOIN wealth.products p ON p.product_id = t.product_id
      WHERE t.txn_type = 'purchase' AND t.status = 'succeeded'
        AND p.product_type IN ${PUBLIC_FUNDS}
        AND ${localDate('t.occurred_at')} BETWEEN ${asOf}::date - 29 AND ${asOf}::date
    ),
    active AS (
      SELECT DISTINCT e.customer_id
      FROM wealth.app_events e
      WHERE e.customer_id IS NOT NULL
        AND ${localDate('e.occurred_at')} BETWEEN ${asOf}::date - 89 AND ${asOf}::date
    ),
    purchases_by_type AS (
      SELECT t.customer_id, p.product_type, SUM(t.amount) AS amount
      FROM wealth.transactions t
      JOIN wealth.products p ON p.product_id = t.product_id
      WHERE t.txn_type = 'purchase' AND t.status = 'succeeded'
        AND ${localDate('t.occurred_at')} BETWEEN ${asOf}::date - 364 AND ${asOf}::date
      GROUP BY t.customer_id, p.product_type
    ),
    preferred AS (
      SELECT DISTINCT ON (customer_id) customer_id, product_type
      FROM purchases_by_type
      ORDER BY customer_id, amount DESC, product_type COLLATE "C" ASC
    )
    SELECT
      c.customer_id,
      CASE
        WHEN a.aum >= 6000000 THEN 'uhnw'
        WHEN a.aum >= 500000 THEN 'hnw'
        WHEN a.aum >= 10000 THEN 'affluent'
        ELSE 'mass'
      END AS aum_tier,
      (f.customer_id IS NOT NULL) AS fund_buyer_30d,
      (e.customer_id IS NULL) AS dormant_90d,
      (${localDate('c.registered_at')} BETWEEN ${asOf}::date - 29 AND ${asOf}::date) AS new_customer_30d,
      pr.product_type AS preferred_product_type,
      c.risk_level
    FROM wealth.customers c
    LEFT JOIN aum a ON a.customer_id = c.customer_id
    LEFT JOIN fund_buyers f ON f.customer_id = c.customer_id
    LEFT JOIN active e ON e.customer_id = c.customer_id
    LEFT JOIN preferred pr ON pr.customer_id = c.customer_id
  `.execute(db);
  return new Map(
    rows.map((r) => [
      r.customer_id,
      {
        aum_tier: r.aum_tier,
        fund_buyer_30d: r.fund_buyer_30d,
        dormant_90d: r.dormant_90d,
        new_customer_30d: r.new_customer_30d,
        preferred_product_type: r.preferred_product_type,
        risk_level: r.risk_level,
      },
    ]),
  );
}

/** The last Shanghai date up to which every source the tags read has data: the earliest of the last dates of holdings, transactions, events and registrations. */
async function referenceLatestDate(db: Kysely<DatabaseSchema>): Promise<string | null> {
  const { rows } = await sql<{ latest: string | null }>`
    SELECT LEAST(
      (SELECT MAX(as_of) FROM wealth.holdings_daily),
      (SELECT MAX(${localDate('occurred_at')}) FROM wealth.transactions),
      (SELECT MAX(${localDate('occurred_at')}) FROM wealth.app_events),
      (SELECT MAX(${localDate('registered_at')}) FROM wealth.customers)
    )::text AS latest`.execute(db);
  return rows[0]?.latest ?? null;
}

// ---------------------------------------------------------------------------------------
// Hand-made boundary customers

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
/** A Shanghai wall-clock moment as a timestamptz literal. */
const shanghai = (date: string, time: string) => `${date} ${time}+08`;

const PRODUCTS = [
  { product_id: 'zref_bond', product_type: 'bond_fund' },
  { product_id: 'zref_equity', product_type: 'equity_fund' },
  { product_id: 'zref_mixed', product_type: 'mixed_fund' },
  { product_id: 'zref_mm', product_type: 'money_market' },
  { product_id: 'zref_wm', product_type: 'wealth_management' },
  { product_id: 'zref_dep', product_type: 'deposit' },
] as const;
type ProductId = (typeof PRODUCTS)[number]['product_id'];

interface Fixture {
  customers: { customer_id: string; registered_at: string; risk_level: string }[];
  transactions: { txn_id: string; customer_id: string; product_id: ProductId; txn_type: string; amount: string; status: string; occurred_at: string }[];
  holdings: { customer_id: string; product_id: ProductId; as_of: string; market_value: string }[];
  events: { event_id: string; customer_id: string; event_name: string; occurred_at: string }[];
  /** Hand-written expectations: customer → the tags the case is about. */
  expected: Map<string, Partial<TagMap>>;
}

/**
 * Boundary customers around `anchor` (their ids start with `prefix`). Rows after the anchor
 * are only added when `after` is set: for the default as-of they would move the latest date.
 */
function boundaryFixture(anchor: string, prefix: string, after: boolean): Fixture {
  const f: Fixture = { customers: [], transactions: [], holdings: [], events: [], expected: new Map() };
  const day = (n: number) => addDays(anchor, n);
  let serial = 0;
  const customer = (name: string, expected: Partial<TagMap>, options: { registered_at?: string; risk_level?: string } = {}) => {
    const id = `${prefix}${name}`;
    f.customers.push({ customer_id: id, registered_at: options.registered_at ?? shanghai('2024-01-10', '10:00:00'), risk_level: options.risk_level ?? 'C3' });
    f.expected.set(id, expected);
    return id;
  };
  const txn = (customer_id: string, product_id: ProductId, amount: string, occurred_at: string, txn_type = 'purchase', status = 'succeeded') =>
    f.transactions.push({ txn_id: `${prefix}t${++serial}`, customer_id, product_id, txn_type, amount, status, occurred_at });
  const holding = (customer_id: string, product_id: ProductId, as_of: string, market_value: string) =>
    f.holdings.push({ customer_id, product_id, as_of, market_value });
  const event = (customer_id: string, occurred_at: string, event_name = 'app_open') =>
    f.events.push({ event_id: `${prefix}e${++serial}`, customer_id, event_name, occurred_at });

  // aum_tier: the sum of market values on the as-of date only.
  holding(customer('aum_9999_99', { aum_tier: 'mass' }), 'zref_mm', anchor, '9999.99');
  holding(customer('aum_10000', { aum_tier: 'affluent' }), 'zref_mm', anchor, '10000.00');
  const split = customer('aum_10000_split', { aum_tier: 'affluent' });
  holding(split, 'zref_mm', anchor, '3333.33');
  holding(split, 'zref_bond', anchor, '3333.33');
  holding(split, 'zref_equity', anchor, '3333.34');
  holding(customer('aum_499999_99', { aum_tier: 'affluent' }), 'zref_bond', anchor, '499999.99');
  holding(customer('aum_500000', { aum_tier: 'hnw' }), 'zref_bond', anchor, '500000.00');
  holding(customer('aum_5999999_99', { aum_tier: 'hnw' }), 'zref_wm', anchor, '5999999.99');
  holding(customer('aum_6000000', { aum_tier: 'uhnw' }), 'zref_wm', anchor, '6000000.00');
  const dayBefore = customer('aum_day_before', { aum_tier: 'mass' });
  holding(dayBefore, 'zref_wm', day(-1), '7000000.00');
  holding(dayBefore, 'zref_mm', anchor, '50.00');
  if (after) holding(customer('aum_day_after', { aum_tier: 'mass' }), 'zref_wm', day(1), '7000000.00');
  customer('aum_none', { aum_tier: 'mass', preferred_product_type: null, fund_buyer_30d: false, dormant_90d: true, new_customer_30d: false });

  // fund_buyer_30d: succeeded purchases of public funds, Shanghai dates anchor-29 .. anchor.
  txn(customer('fund_29d', { fund_buyer_30d: true }), 'zref_bond', '100.00', shanghai(day(-29), '00:00:00'));
  txn(customer('fund_30d', { fund_buyer_30d: false }), 'zref_equity', '100.00', shanghai(day(-30), '23:59:59'));
  txn(customer('fund_asof_2359', { fund_buyer_30d: true }), 'zref_mixed', '100.00', shanghai(anchor, '23:59:00'));
  if (after) txn(customer('fund_next_0000', { fund_buyer_30d: false }), 'zref_bond', '100.00', shanghai(day(1), '00:00:00'));
  const failed = customer('fund_not_succeeded', { fund_buyer_30d: false, preferred_product_type: null });
  txn(failed, 'zref_bond', '100.00', shanghai(anchor, '12:00:00'), 'purchase', 'failed');
  txn(failed, 'zref_equity', '100.00', shanghai(anchor, '12:00:00'), 'purchase', 'pending');
  const notPurchase = customer('fund_not_purchase', { fund_buyer_30d: false, preferred_product_type: null });
  txn(notPurchase, 'zref_bond', '100.00', shanghai(anchor, '12:00:00'), 'redemption');
  txn(notPurchase, 'zref_equity', '5.00', shanghai(anchor, '12:00:00'), 'dividend');
  const notFund = customer('fund_not_public', { fund_buyer_30d: false, preferred_product_type: 'money_market' });
  txn(notFund, 'zref_mm', '1000.00', shanghai(anchor, '12:00:00'));
  txn(notFund, 'zref_wm', '500.00', shanghai(anchor, '12:00:00'));
  txn(notFund, 'zref_dep', '500.00', shanghai(anchor, '12:00:00'));

  // dormant_90d: no app event with a Shanghai date in anchor-89 .. anchor.
  event(customer('ev_89d', { dormant_90d: false }), shanghai(day(-89), '00:00:00'));
  event(customer('ev_90d', { dormant_90d: true }), shanghai(day(-90), '23:59:59'));
  event(customer('ev_asof_2359', { dormant_90d: false }), shanghai(anchor, '23:59:59'));
  if (after) event(customer('ev_next_0000', { dormant_90d: true }), shanghai(day(1), '00:00:00'));
  event(customer('ev_any_name', { dormant_90d: false }), shanghai(day(-10), '08:00:00'), 'placement_impression');

  // new_customer_30d: registered with a Shanghai date in anchor-29 .. anchor.
  customer('reg_29d', { new_customer_30d: true }, { registered_at: shanghai(day(-29), '00:00:00') });
  customer('reg_30d', { new_customer_30d: false }, { registered_at: shanghai(day(-30), '23:59:59') });
  customer('reg_asof_2359', { new_customer_30d: true }, { registered_at: shanghai(anchor, '23:59:59') });
  customer('reg_asof_0000', { new_customer_30d: true }, { registered_at: shanghai(anchor, '00:00:00') });
  if (after) customer('reg_next_0000', { new_customer_30d: false }, { registered_at: shanghai(day(1), '00:00:00') });

  // preferred_product_type: largest succeeded purchase sum over anchor-364 .. anchor.
  const tie = customer('pref_tie', { preferred_product_type: 'bond_fund' });
  txn(tie, 'zref_equity', '500.00', shanghai(day(-3), '10:00:00'));
  txn(tie, 'zref_bond', '500.00', shanghai(day(-2), '10:00:00'));
  const decimalTie = customer('pref_decimal_tie', { preferred_product_type: 'bond_fund' });
  txn(decimalTie, 'zref_equity', '0.10', shanghai(day(-3), '10:00:00'));
  txn(decimalTie, 'zref_equity', '0.20', shanghai(day(-3), '11:00:00'));
  txn(decimalTie, 'zref_bond', '0.30', shanghai(day(-2), '10:00:00'));
  const tieMixedMoney = customer('pref_tie_mixed_money', { preferred_product_type: 'mixed_fund' });
  txn(tieMixedMoney, 'zref_mm', '700.00', shanghai(day(-3), '10:00:00'));
  txn(tieMixedMoney, 'zref_mixed', '700.00', shanghai(day(-2), '10:00:00'));
  const sums = customer('pref_sum', { preferred_product_type: 'money_market' });
  txn(sums, 'zref_mm', '300.00', shanghai(day(-40), '10:00:00'));
  txn(sums, 'zref_mm', '300.00', shanghai(day(-5), '10:00:00'));
  txn(sums, 'zref_equity', '500.00', shanghai(day(-1), '10:00:00'));
  const notCounted = customer('pref_only_succeeded', { preferred_product_type: 'equity_fund' });
  txn(notCounted, 'zref_equity', '100.00', shanghai(day(-1), '10:00:00'));
  txn(notCounted, 'zref_bond', '1000.00', shanghai(day(-1), '10:00:00'), 'purchase', 'failed');
  txn(notCounted, 'zref_mixed', '1000.00', shanghai(day(-1), '10:00:00'), 'purchase', 'pending');
  txn(notCounted, 'zref_dep', '5000.00', shanghai(day(-1), '10:00:00'), 'redemption');
  txn(customer('pref_364d', { preferred_product_type: 'deposit' }), 'zref_dep', '100.00', shanghai(day(-364), '00:00:00'));
  txn(customer('pref_365d', { preferred_product_type: null }), 'zref_dep', '100.00', shanghai(day(-365), '23:59:59'));
  const late = customer('pref_asof_2359', { preferred_product_type: 'bond_fund', fund_buyer_30d: true });
  txn(late, 'zref_bond', '100.00', shanghai(anchor, '23:59:00'));
  if (after) txn(late, 'zref_equity', '1000.00', shanghai(day(1), '00:00:00'));

  // risk_level: as it stands.
  customer('risk_c1', { risk_level: 'C1' }, { risk_level: 'C1' });
  customer('risk_c5', { risk_level: 'C5' }, { risk_level: 'C5' });
  return f;
}

async function insertFixture(db: Kysely<DatabaseSchema>, f: Fixture): Promise<void> {
  await db
    .insertInto('wealth.customers')
    .values(
      f.customers.map((c) => ({
        ...c,
        channel: 'app',
        city_tier: 1,
        age_band: '25-34',
        gender: 'F',
        account_class: 'type2',
        kyc_completed_at: null,
      })),
    )
    .execute();
  if (f.transactions.length)
    await db
      .insertInto('wealth.transactions')
      .values(f.transactions.map((t) => ({ ...t, channel: 'app' })))
      .execute();
  if (f.holdings.length) await db.insertInto('wealth.holdings_daily').values(f.holdings).execute();
  if (f.events.length) {
    await db
      .insertInto('wealth.app_events')
      .values(f.events.map((e) => ({ ...e, anonymous_id: null, channel: 'app', page: null, placement_id: null, product_id: null, properties: '{}' })))
      .execute();
  }
}

// ---------------------------------------------------------------------------------------
// Comparison

/** Materialized tags of a run, by customer (read right after the run: older runs are removed). */
async function readProfiles(db: Kysely<DatabaseSchema>, runId: number): Promise<Map<string, Record<string, unknown>>> {
  const { rows } = await sql<{ customer_id: string; tags: Record<string, unknown> }>`
    SELECT customer_id, tags FROM strata.customer_profiles WHERE run_id = ${runId}`.execute(db);
  return new Map(rows.map((r) => [r.customer_id, typeof r.tags === 'string' ? (JSON.parse(r.tags) as Record<string, unknown>) : r.tags]));
}

interface Mismatch {
  customer: string;
  expected: unknown;
  got: unknown;
}

/** Per tag, the customers whose values differ (missing customers and missing keys count). */
function diff(
  expected: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  actual: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  keys: readonly string[],
): Record<string, Mismatch[]> {
  const out: Record<string, Mismatch[]> = {};
  for (const key of keys) out[key] = [];
  const customers = new Set([...expected.keys(), ...actual.keys()]);
  for (const customer of customers) {
    const e = expected.get(customer);
    const a = actual.get(customer);
    for (const key of keys) {
      const ev = e ? (key in e ? e[key] : '<no key>') : '<no customer>';
      const av = a ? (key in a ? a[key] : '<no key>') : '<no customer>';
      if (!Object.is(ev, av)) out[key]!.push({ customer, expected: ev, got: av });
    }
  }
  return out;
}

/** `{ tag: '3 mismatches, e.g. c000012 expected true got false; ...' }` for failing tags only. */
function summarize(mismatches: Record<string, Mismatch[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, list] of Object.entries(mismatches)) {
    if (!list.length) continue;
    const examples = list.slice(0, 6).map((m) => `${m.customer} expected ${JSON.stringify(m.expected)} got ${JSON.stringify(m.got)}`);
    out[key] = `${list.length} mismatch(es), e.g. ${examples.join('; ')}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The in-memory evaluator over the platform's per-customer inputs

function evaluateInMemory(
  row: Record<string, unknown>,
  features: ReturnType<typeof profileFeaturesSql>,
  ordered: readonly TagDefinition[],
  types: RuleTypes,
): Record<string, unknown> {
  const dimensions: Record<string, unknown> = {};
  for (const [ref, column] of Object.entries(features.dimensions as Record<string, string>)) dimensions[ref] = row[column];
  const aggregates: Record<string, number | null> = {};
  for (const [key, column] of Object.entries(features.aggregates as Record<string, string>)) {
    const value = row[column];
    aggregates[key] = value === null || value === undefined ? null : Number(value);
  }
  const tops = features.tops as Record<string, string>;
  const tags: Record<string, unknown> = {};
  const customer: CustomerFeatures = { dimensions, aggregates, tags };
  for (const tag of ordered) {
    const source = tag.source;
    switch (source.kind) {
      case 'rule':
        tags[tag.key] = evaluateRule(source.rule, customer, types) === true;
        break;
      case 'cases':
        tags[tag.key] = source.cases.find((c) => evaluateRule(c.rule, customer, types) === true)?.value ?? source.otherwise;
        break;
      case 'top': {
        const column = tops[tag.key];
        if (column === undefined) throw new Error(`no top column for tag ${tag.key}`);
        tags[tag.key] = row[column] ?? null;
        break;
      }
      case 'aggregate':
        tags[tag.key] = aggregates[aggregateKey(source.aggregate)] ?? null;
        break;
    }
  }
  return tags;
}

/** The customer key column of a feature row (`k`). */
function customerKey(row: Record<string, unknown>): string {
  const key = row.k;
  if (typeof key !== 'string') throw new Error(`feature row without a customer key: ${JSON.stringify(row)}`);
  return key;
}

// ---------------------------------------------------------------------------------------

const domain = wealthDomain();
const subject = tagSubject(indexCatalog(domain.catalog), domain.subject);
const ordered = orderTags(domain.tags);
const tagsByKey = new Map(domain.tags.map((t) => [t.key, t]));
const ruleTypes: RuleTypes = {
  timeZone: subject.model.timeZone,
  dimensionType: (ref) => subjectDimension(subject, ref, 'test').type,
  tagType: (key) => {
    const tag = tagsByKey.get(key);
    if (!tag) throw new Error(`unknown tag ${key}`);
    return tagValueType(tag);
  },
};

const FIXTURES = [
  { anchor: EXPLICIT_AS_OF, fixture: boundaryFixture(EXPLICIT_AS_OF, 'zref_x_', true) },
  { anchor: LATEST, fixture: boundaryFixture(LATEST, 'zref_l_', false) },
];

type RunName = 'default' | 'explicit';
interface RunResult {
  asOf: string;
  profiles: Map<string, Record<string, unknown>>;
}

await describeEachEngine('customer tags against hand-written SQL on %s', (engine) => {
  let database: TestDatabase;
  let latestByReference: string | null = null;
  const runs = new Map<RunName, RunResult>();
  const run = (name: RunName): RunResult => {
    const found = runs.get(name);
    if (!found) throw new Error(`run ${name} did not happen`);
    return found;
  };

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    await seedDemoData(database, { customers: CUSTOMERS, seed: SEED });
    await database.db
      .insertInto('wealth.products')
      .values(PRODUCTS.map((p) => ({ ...p, name: `Reference ${p.product_type}`, risk_rating: 'R2', launched_at: '2020-01-01' })))
      .execute();
    for (const { fixture } of FIXTURES) await insertFixture(database.db, fixture);
    latestByReference = await referenceLatestDate(database.db);

    const byDefault = await materializeProfiles({ database, subject, tags: domain.tags, audiences: async () => [], actor: 'test' });
    runs.set('default', { asOf: byDefault.asOf, profiles: await readProfiles(database.db, byDefault.runId) });
    // Months apart, the two runs' distributions differ by more than the drift guard allows: forced, so the explicit run is the snapshot.
    const explicit = await materializeProfiles({
      database,
      subject,
      tags: domain.tags,
      audiences: async () => [],
      actor: 'test',
      asOf: EXPLICIT_AS_OF,
      force: true,
    });
    runs.set('explicit', { asOf: explicit.asOf, profiles: await readProfiles(database.db, explicit.runId) });
  });

  afterAll(async () => {
    await database?.dispose();
  });

  it('materializes as of the latest date with data by default, and as of the given date otherwise', async () => {
    expect(latestByReference).toBe(LATEST);
    expect(run('default').asOf).toBe(latestByReference);
    expect(run('explicit').asOf).toBe(EXPLICIT_AS_OF);
    const snapshot = await sql<{ run_id: number; as_of: string }>`SELECT run_id, as_of::text AS as_of FROM strata.profile_snapshot WHERE id = 1`.execute(
      database.db,
    );
    expect(snapshot.rows[0]?.as_of).toBe(EXPLICIT_AS_OF);
  });

  describe.each([
    ['default', LATEST],
    ['explicit', EXPLICIT_AS_OF],
  ] as const)('as of the %s date (%s)', (name, asOf) => {
    let reference: Map<string, TagMap>;
    beforeAll(async () => {
      reference = await referenceTags(database.db, asOf);
    });

    it('has one profile per customer, with every DOMAIN.md tag', () => {
      const { profiles } = run(name);
      expect(reference.size).toBe(CUSTOMERS + FIXTURES.reduce((n, f) => n + f.fixture.customers.length, 0));
      expect([...profiles.keys()].sort()).toEqual([...reference.keys()].sort());
      const missing = [...profiles].filter(([, tags]) => TAG_KEYS.some((k) => !(k in tags))).map(([c]) => c);
      expect(missing.slice(0, 5)).toEqual([]);
    });

    it('the reference sees every tag value it can take (so the comparison is not vacuous)', () => {
      const seen = (key: TagKey) => new Set([...reference.values()].map((t) => t[key]));
      expect([...seen('aum_tier')].sort()).toEqual(['affluent', 'hnw', 'mass', 'uhnw']);
      for (const key of ['fund_buyer_30d', 'dormant_90d', 'new_customer_30d'] as const) expect([...seen(key)].sort()).toEqual([false, true]);
      expect(seen('preferred_product_type').has(null)).toBe(true);
      expect(seen('preferred_product_type').size).toBeGreaterThanOrEqual(4);
      expect([...seen('risk_level')].sort()).toEqual(['C1', 'C2', 'C3', 'C4', 'C5']);
    });

    it.each(TAG_KEYS)('%s matches the hand-written SQL for every customer', (key) => {
      const mismatches = diff(reference, run(name).profiles, [key]);
      expect(summarize(mismatches)).toEqual({});
    });

    it('boundary customers get the hand-written values', () => {
      const expected = new Map<string, Record<string, unknown>>();
      for (const { anchor, fixture } of FIXTURES) {
        if (anchor !== asOf) continue;
        for (const [customer, tags] of fixture.expected) expected.set(customer, tags);
      }
      expect(expected.size).toBeGreaterThan(30);
      const fromReference = new Map([...expected.keys()].map((c) => [c, reference.get(c) as Record<string, unknown>]));
      const fromProfiles = new Map([...expected.keys()].map((c) => [c, run(name).profiles.get(c) ?? {}]));
      // Each expected map only names the tags its case is about; compare exactly those.
      const pick = (source: ReadonlyMap<string, Record<string, unknown>>) =>
        new Map([...source].map(([c, tags]) => [c, Object.fromEntries(Object.keys(expected.get(c) ?? {}).map((k) => [k, tags?.[k]]))]));
      // The reference SQL itself agrees with the hand-written values...
      expect(summarize(diff(expected, pick(fromReference), TAG_KEYS))).toEqual({});
      // ...and so does the platform.
      expect(summarize(diff(expected, pick(fromProfiles), TAG_KEYS))).toEqual({});
    });
  });

  describe('the in-memory evaluator agrees with the SQL materialization', () => {
    it('reads every aggregate, dimension and top the tags name', () => {
      const features = profileFeaturesSql(subject, ordered, [], EXPLICIT_AS_OF);
      const aggregateKeys = new Set(
        ordered.flatMap((t) => tagRules(t.source).flatMap(leaves)).flatMap((l) => (l.kind === 'aggregate' ? [aggregateKey(l.aggregate)] : [])),
      );
      const dimensionRefs = new Set(ordered.flatMap((t) => tagRules(t.source).flatMap(leaves)).flatMap((l) => (l.kind === 'compare' ? [l.dimension] : [])));
      expect(aggregateKeys.size).toBeGreaterThan(0);
      for (const key of aggregateKeys) expect(Object.keys(features.aggregates as Record<string, string>)).toContain(key);
      for (const ref of dimensionRefs) expect(Object.keys(features.dimensions as Record<string, string>)).toContain(ref);
      for (const tag of ordered.filter((t) => t.source.kind === 'top')) expect(Object.keys(features.tops as Record<string, string>)).toContain(tag.key);
    });

    it.each([
      ['default', LATEST],
      ['explicit', EXPLICIT_AS_OF],
    ] as const)('as of the %s date (%s), for every customer and tag', async (name, asOf) => {
      const features = profileFeaturesSql(subject, ordered, [], asOf);
      const { rows } = await features.statement.execute(database.db);
      const inMemory = new Map<string, Record<string, unknown>>();
      for (const row of rows as Record<string, unknown>[]) inMemory.set(customerKey(row), evaluateInMemory(row, features, ordered, ruleTypes));
      const { profiles } = run(name);
      expect(inMemory.size).toBe(profiles.size);
      const keys = ordered.map((t) => t.key);
      expect(keys).toEqual(expect.arrayContaining([...TAG_KEYS]));
      expect(summarize(diff(profiles, inMemory, keys))).toEqual({});
    });
  });
});
