import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { PLANTED, PLANTED_GOAL, plantInsightStructure } from './support/planted-insight.ts';
import { createApiKey } from '../store/api-keys.ts';

/**
 * API.md's Insight end to end over HTTP, on a planted structure (branch customers at risk
 * level C5 complete KYC at 3x the base rate): the comparison ranks the planted features
 * first with their planted values on top, and its counts and statistics equal those computed
 * here from the warehouse with the textbook formulas; the attribution tree splits on the
 * planted features first, node sizes add up, and every node's rule makes an audience of
 * exactly its customers; small cells are hidden with the cells that would reveal them.
 */

const CUSTOMERS = 2500;
const K = 10;
const FEATURES = [
  'customer.channel',
  'customer.risk_level',
  'customer.age_band',
  'customer.gender',
  'customer.city_tier',
  'customer.tag.aum_tier',
  'customer.tag.dormant_90d',
];

const COMPARE = `query Compare($target: AudienceRef!, $reference: AudienceRef!, $features: [String!]!, $bins: [FeatureBinsInput!]) {
  audienceComparison(target: $target, reference: $reference, features: $features, bins: $bins) {
    targetCustomers restCustomers
    features { feature cramersV chiSquare degreesOfFreedom pValue qValue }
    values { feature value targetCustomers targetShare referenceCustomers referenceShare tgi lift pValue qValue suppressed } } }`;
const TREE = `query Tree($input: AttributionTreeInput!) { attributionTree(input: $input) {
  nodes { id parentId depth rule feature value inGroup customers conversions rate lift pValue } } }`;
const CREATE = `mutation Create($input: CreateAudienceInput!) { createAudience(input: $input) { key size } }`;

interface Value {
  feature: string;
  value: string | null;
  targetCustomers: number | null;
  targetShare: number | null;
  referenceCustomers: number | null;
  referenceShare: number | null;
  tgi: number | null;
  lift: number | null;
  pValue: number | null;
  qValue: number | null;
  suppressed: boolean;
}
interface Node {
  id: string;
  parentId: string | null;
  depth: number;
  rule: Record<string, unknown> | null;
  feature: string | null;
  value: string | null;
  inGroup: boolean | null;
  customers: number | null;
  conversions: number | null;
  rate: number | null;
  lift: number | null;
  pValue: number | null;
}

/** The ```graphql blocks of README's Insight section, in order. */
function readmeInsightBlocks(): string[] {
  const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = text.indexOf('\n## Insight\n');
  const end = text.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  return [...text.slice(start, end).matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/** erfc by Numerical Recipes' Chebyshev fit (fractional error under 1.2e-7): independent of jstat. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
/** Pearson's statistic of a 2 x 2 table by the shortcut formula n (ad - bc)^2 / (row and column sums). */
const chi2x2 = (a: number, b: number, c: number, d: number) => ((a + b + c + d) * (a * d - b * c) ** 2) / ((a + b) * (c + d) * (a + c) * (b + d));
/** Upper tail of chi-square with 1 degree of freedom: erfc(sqrt(x / 2)). */
const sf1 = (x: number) => erfc(Math.sqrt(x / 2));
/** Upper tail of chi-square with an even number of degrees of freedom 2m: e^(-x/2) sum_{i<m} (x/2)^i / i!. */
const sfEven = (x: number, dof: number) => {
  let term = 1;
  let sum = 1;
  for (let i = 1; i < dof / 2; i++) {
    term *= x / 2 / i;
    sum += term;
  }
  return Math.exp(-x / 2) * sum;
};
const closeRelative = (got: number | null, want: number, tolerance = 1e-5) => {
  expect(got).not.toBeNull();
  expect(Math.abs((got as number) - want) / Math.max(want, 1e-300)).toBeLessThan(tolerance);
};

await describeEachEngine('insight on %s', (engine) => {
  let server: DemoServer<'operator' | 'analyst' | 'app'>;
  let database: TestDatabase;
  const { post, ok } = graphqlClient(() => server.base);
  const keys = () => server.keys;

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: CUSTOMERS,
      seed: 11,
      keys: { operator: ['ops-ida', 'operator'], analyst: ['analyst-ines', 'analyst'], app: ['app-ivo', 'app'] },
    });
    database = server.database;
    await plantInsightStructure(database.db);
    await ok(keys().operator, 'mutation { materializeTags { runId } }');
  }, 600_000);
  afterAll(() => server?.close());

  /** Customers and converters per channel, straight from the warehouse. */
  const warehouseCounts = async (column: 'channel' | 'risk_level') => {
    const { rows } = await sql<{ value: string; n: number; converted: number }>`
      SELECT ${sql.ref(column)} AS value, COUNT(*) AS n, COUNT(*) FILTER (WHERE kyc_completed_at IS NOT NULL) AS converted
      FROM wealth.customers GROUP BY 1`.execute(database.db);
    return rows.map((r) => ({ value: r.value, n: Number(r.n), converted: Number(r.converted) }));
  };

  it('ranks the planted features first, with the planted values on top, and counts as the warehouse does', async () => {
    const data = await ok(keys().operator, COMPARE, { target: { rule: PLANTED_GOAL }, reference: { all: true }, features: FEATURES });
    const comparison = data.audienceComparison as {
      targetCustomers: number;
      restCustomers: number;
      features: { feature: string; cramersV: number; chiSquare: number; degreesOfFreedom: number; pValue: number; qValue: number }[];
      values: Value[];
    };
    expect(
      comparison.features
        .slice(0, 2)
        .map((f) => f.feature)
        .sort(),
    ).toEqual(['customer.channel', 'customer.risk_level']);
    const top = (feature: string) => comparison.values.find((v) => v.feature === feature);
    expect(top('customer.channel')?.value).toBe(PLANTED.channel);
    expect(top('customer.risk_level')?.value).toBe(PLANTED.risk);
    const channels = await warehouseCounts('channel');
    const converted = channels.reduce((s, r) => s + r.converted, 0);
    const all = channels.reduce((s, r) => s + r.n, 0);
    expect(comparison.targetCustomers).toBe(converted);
    expect(comparison.restCustomers).toBe(all - converted);
    for (const row of channels) {
      const got = comparison.values.find((v) => v.feature === 'customer.channel' && v.value === row.value) as Value;
      expect(got.targetCustomers).toBe(row.converted);
      expect(got.referenceCustomers).toBe(row.n);
      expect(got.targetShare).toBeCloseTo(row.converted / converted, 12);
      expect(got.referenceShare).toBeCloseTo(row.n / all, 12);
      expect(got.tgi).toBeCloseTo((100 * (row.converted / converted)) / (row.n / all), 9);
      expect(got.lift).toBeCloseTo(row.converted / converted / ((row.n - row.converted) / (all - converted)), 9);
      const rest = row.n - row.converted;
      closeRelative(got.pValue, sf1(chi2x2(row.converted, converted - row.converted, rest, all - converted - rest)));
    }
    // Cramér's V and the p-value of the whole channel table (5 values x 2 groups, 4 degrees of freedom).
    let chi2 = 0;
    for (const row of channels) {
      for (const [observed, group] of [
        [row.converted, converted],
        [row.n - row.converted, all - converted],
      ] as const)
        chi2 += (observed - (row.n * group) / all) ** 2 / ((row.n * group) / all);
    }
    const channel = comparison.features.find((f) => f.feature === 'customer.channel');
    expect(channel?.degreesOfFreedom).toBe(4);
    expect(channel?.chiSquare).toBeCloseTo(chi2, 8);
    expect(channel?.cramersV).toBeCloseTo(Math.sqrt(chi2 / all), 10);
    closeRelative(channel?.pValue ?? null, sfEven(chi2, 4));
    // Benjamini-Hochberg over every row of the answer, recomputed here by rank.
    const ps = comparison.values.map((v) => v.pValue as number);
    const sorted = [...ps].sort((x, y) => x - y);
    comparison.values.forEach((v) => {
      const want = Math.min(1, ...sorted.map((p, i) => (p >= (v.pValue as number) ? (p * ps.length) / (i + 1) : Number.POSITIVE_INFINITY)));
      expect(v.qValue).toBeCloseTo(want, 12);
    });
    // Numbers in deciles: every customer lands in exactly one bin.
    const bins = comparison.values.filter((v) => v.feature === 'customer.city_tier');
    expect(bins.length).toBeGreaterThan(1);
    expect(bins.reduce((s, v) => s + (v.referenceCustomers ?? 0), 0)).toBe(all);
  });

  it('hides small cells and the cells that would reveal them for analysts, never for operators', async () => {
    const variables = { target: { rule: PLANTED_GOAL }, reference: { all: true }, features: ['customer.gender'] };
    const full = (await ok(keys().operator, COMPARE, variables)).audienceComparison.values as Value[];
    expect(full.every((v) => !v.suppressed)).toBe(true);
    expect(full.find((v) => v.value === 'x')?.referenceCustomers).toBe(4);
    const restricted = (await ok(keys().analyst, COMPARE, variables)).audienceComparison.values as Value[];
    const hidden = restricted.filter((v) => v.suppressed);
    expect(hidden.map((v) => v.value)).toContain('x');
    expect(hidden.length).toBeGreaterThanOrEqual(2);
    for (const v of hidden)
      expect([v.targetCustomers, v.targetShare, v.referenceCustomers, v.referenceShare, v.tgi, v.lift, v.pValue, v.qValue]).toEqual(Array(8).fill(null));
    // What the totals minus the shown cells leave is the sum of at least two hidden cells, itself not small.
    const hiddenValues = new Set(hidden.map((v) => v.value));
    const hiddenReference = full.filter((v) => hiddenValues.has(v.value)).reduce((s, v) => s + (v.referenceCustomers ?? 0), 0);
    expect(hiddenReference).toBeGreaterThanOrEqual(K);
    for (const v of restricted.filter((r) => !r.suppressed)) expect(v.referenceCustomers).toBeGreaterThanOrEqual(K);
  });

  it('grows the tree from the planted features: first split, then the planted cell, sizes adding up to the parent', async () => {
    const input = { population: { all: true }, goal: PLANTED_GOAL, features: FEATURES, maxDepth: 3, minNodeCustomers: 100 };
    const nodes = (await ok(keys().analyst, TREE, { input })).attributionTree.nodes as Node[];
    const root = nodes[0] as Node;
    expect(root.parentId).toBeNull();
    expect(root.rule).toBeNull();
    expect(root.customers).toBe(CUSTOMERS);
    const first = nodes.filter((n) => n.parentId === root.id);
    expect(first).toHaveLength(2);
    const planted = first.find((n) => n.inGroup) as Node;
    expect([`${planted.feature}=${planted.value}`]).toContain(
      planted.feature === 'customer.channel' ? `customer.channel=${PLANTED.channel}` : `customer.risk_level=${PLANTED.risk}`,
    );
    expect(planted.rate as number).toBeGreaterThan(root.rate as number);
    expect(planted.pValue as number).toBeLessThan(0.05);
    const second = nodes.find((n) => n.parentId === planted.id && n.inGroup);
    const other = planted.feature === 'customer.channel' ? `customer.risk_level=${PLANTED.risk}` : `customer.channel=${PLANTED.channel}`;
    expect(`${second?.feature}=${second?.value}`).toBe(other);
    expect(second?.lift as number).toBeGreaterThan(2);
    for (const parent of nodes) {
      const children = nodes.filter((n) => n.parentId === parent.id);
      if (children.length === 0) continue;
      expect(children).toHaveLength(2);
      expect(children.reduce((s, n) => s + (n.customers ?? 0), 0)).toBe(parent.customers);
      expect(children.reduce((s, n) => s + (n.conversions ?? 0), 0)).toBe(parent.conversions);
      for (const n of children) {
        expect(n.customers as number).toBeGreaterThanOrEqual(100);
        expect(n.rate).toBeCloseTo((n.conversions as number) / (n.customers as number), 12);
        expect(n.lift).toBeCloseTo((n.rate as number) / (root.rate as number), 12);
      }
    }
    expect(Math.max(...nodes.map((n) => n.depth))).toBeLessThanOrEqual(3);
  });

  it("turns every node's rule into an audience of exactly the node's customers", async () => {
    const input = { population: { all: true }, goal: PLANTED_GOAL, features: FEATURES, maxDepth: 2, minNodeCustomers: 100 };
    const nodes = ((await ok(keys().operator, TREE, { input })).attributionTree.nodes as Node[]).filter((n) => n.rule !== null);
    expect(nodes.length).toBeGreaterThanOrEqual(4);
    for (const [i, node] of nodes.entries()) {
      const created = (await ok(keys().operator, CREATE, { input: { key: `tree_node_${i}`, rule: node.rule } })).createAudience;
      expect(created.size, JSON.stringify(node.rule)).toBe(node.customers);
    }
  });

  it('writes node rules for numeric bins and for "no value" that select exactly the node, on both sides', async () => {
    const trees = [
      { goal: { dimension: 'customer.city_tier', op: 'GTE', values: ['3'] }, features: ['customer.city_tier'] },
      { goal: { tag: 'preferred_product_type', op: 'IS_NULL' }, features: ['customer.tag.preferred_product_type'] },
    ];
    let made = 0;
    for (const [t, tree] of trees.entries()) {
      const input = { population: { all: true }, ...tree, maxDepth: 2, minNodeCustomers: 50 };
      const nodes = ((await ok(keys().operator, TREE, { input })).attributionTree.nodes as Node[]).filter((n) => n.rule !== null);
      expect(nodes.length, JSON.stringify(tree)).toBeGreaterThanOrEqual(2);
      for (const [i, node] of nodes.entries()) {
        const created = (await ok(keys().operator, CREATE, { input: { key: `bin_node_${t}_${i}`, rule: node.rule } })).createAudience;
        expect(created.size, JSON.stringify(node.rule)).toBe(node.customers);
        made += 1;
      }
    }
    expect(made).toBeGreaterThanOrEqual(4);
  });

  it('compares against another audience, the reference minus the target being the other group', async () => {
    await ok(keys().operator, CREATE, { input: { key: 'planted_branch', rule: { dimension: 'customer.channel', op: 'EQ', values: [PLANTED.channel] } } });
    const data = await ok(keys().operator, COMPARE, {
      target: { rule: { and: [{ dimension: 'customer.channel', op: 'EQ', values: [PLANTED.channel] }, PLANTED_GOAL] } },
      reference: { audience: 'planted_branch' },
      features: ['customer.risk_level'],
    });
    const branch = (await warehouseCounts('channel')).find((r) => r.value === PLANTED.channel) as { n: number; converted: number };
    expect(data.audienceComparison.targetCustomers).toBe(branch.converted);
    expect(data.audienceComparison.restCustomers).toBe(branch.n - branch.converted);
    expect(data.audienceComparison.values[0].value).toBe(PLANTED.risk);
  });

  it('refuses bad input with a coded error, and callers without the insight role', async () => {
    const refused = async (token: string, query: string, variables: Record<string, unknown>, code: string, text: RegExp) => {
      const body = await post(token, query, variables);
      expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe(code);
      expect(body.errors?.[0]?.message).toMatch(text);
      expect(body.data ?? null).toBeNull();
    };
    const base = { target: { rule: PLANTED_GOAL }, reference: { all: true }, features: ['customer.channel'] };
    await refused(keys().analyst, COMPARE, { ...base, reference: { all: true, audience: 'planted_branch' } }, 'BAD_USER_INPUT', /exactly one/);
    await refused(keys().analyst, COMPARE, { ...base, features: ['customer.chanel'] }, 'UNKNOWN_MEMBER', /unknown feature/);
    await refused(keys().analyst, COMPARE, { ...base, features: ['customer.registered_at'] }, 'BAD_USER_INPUT', /time/);
    await refused(keys().analyst, COMPARE, { ...base, features: ['customer.customer_id'] }, 'BAD_USER_INPUT', /key/);
    await refused(keys().analyst, COMPARE, { ...base, target: { audience: 'nope' } }, 'NOT_FOUND', /nope/);
    await refused(keys().analyst, COMPARE, { ...base, bins: [{ feature: 'customer.channel', edges: [1] }] }, 'BAD_USER_INPUT', /not numeric/);
    const tree = { population: { all: true }, goal: PLANTED_GOAL, features: ['customer.channel'], maxDepth: 9 };
    await refused(keys().analyst, TREE, { input: tree }, 'BAD_USER_INPUT', /maxDepth/);
    await refused(keys().app, COMPARE, base, 'FORBIDDEN', /insight/);
  });

  it("runs README's Insight examples, the tree's planted node equal to the audience the README creates", async () => {
    const blocks = readmeInsightBlocks();
    expect(blocks.length).toBe(6);
    const answers = [];
    for (const query of blocks) answers.push(await ok(keys().operator, query));
    const nodes = answers[1]?.attributionTree.nodes as Node[];
    const cell = nodes.find((n) => n.depth === 2 && n.inGroup && nodes.find((p) => p.id === n.parentId)?.inGroup);
    expect(answers[2]?.createAudience.size).toBe(cell?.customers);
    expect(answers[4]?.createLookalikeAudience.size).toBe(100);
    expect(answers[4]?.createLookalikeAudience.quality.holdoutCustomers).toBeGreaterThan(0);
    expect(answers[5]?.draftStrategyFromInsight.audience.size).toBe(cell?.customers);
    expect(answers[5]?.draftStrategyFromInsight.strategy.status).toBe('DRAFT');
  });

  it('finds the other half of a rule-defined group from a seed of one half, deterministically, refreshed by materialization', async () => {
    const { rows } = await sql<{ id: string }>`SELECT customer_id AS id FROM wealth.customers
      WHERE channel = ${PLANTED.channel} AND risk_level = ${PLANTED.risk} ORDER BY customer_id`.execute(database.db);
    const group = rows.map((r) => r.id);
    const middle = group[Math.floor(group.length / 2)] as string;
    const seedRule = {
      and: [
        { dimension: 'customer.channel', op: 'EQ', values: [PLANTED.channel] },
        { dimension: 'customer.risk_level', op: 'EQ', values: [PLANTED.risk] },
        { dimension: 'customer.customer_id', op: 'LT', values: [middle] },
      ],
    };
    const seed = (await ok(keys().operator, CREATE, { input: { key: 'planted_seed', rule: seedRule } })).createAudience;
    expect(seed.size).toBeGreaterThanOrEqual(100);
    const otherHalf = new Set(group.filter((id) => id >= middle));
    const LOOKALIKE = `mutation L($input: CreateLookalikeAudienceInput!) { createLookalikeAudience(input: $input) {
      key size seed randomSeed trainingCustomers quality { auc precisionAtK liftTopDecile holdoutCustomers } topFeatures { feature value weight } } }`;
    const made = (await ok(keys().operator, LOOKALIKE, { input: { key: 'lal_planted', seed: 'planted_seed', size: otherHalf.size, randomSeed: 7 } }))
      .createLookalikeAudience;
    expect(made.size).toBe(otherHalf.size);
    const members = async (key: string) =>
      (
        await sql<{ id: string }>`SELECT customer_id AS id FROM strata.current_profiles WHERE ${key} = ANY(audiences) ORDER BY customer_id`.execute(database.db)
      ).rows.map((r) => r.id);
    const found = await members('lal_planted');
    const precision = found.filter((id) => otherHalf.has(id)).length / found.length;
    expect(precision).toBeGreaterThan(0.8);
    expect(found.some((id) => id < middle && group.includes(id))).toBe(false);
    expect(made.quality.auc).toBeGreaterThan(0.8);
    expect(made.quality.holdoutCustomers).toBeGreaterThan(0);
    for (const figure of [made.quality.precisionAtK, made.quality.auc]) expect(figure).toBeLessThanOrEqual(1);
    expect(made.topFeatures.slice(0, 4).map((f: { feature: string }) => f.feature)).toEqual(
      expect.arrayContaining(['customer.channel', 'customer.risk_level']),
    );
    // Same seed audience and random seed: the same model and members.
    const again = (await ok(keys().operator, LOOKALIKE, { input: { key: 'lal_planted_again', seed: 'planted_seed', size: otherHalf.size, randomSeed: 7 } }))
      .createLookalikeAudience;
    expect(again.quality).toEqual(made.quality);
    expect(await members('lal_planted_again')).toEqual(found);
    // A new materialization recomputes the members with the stored model.
    await ok(keys().operator, 'mutation { materializeTags { runId } }');
    expect(await members('lal_planted')).toEqual(found);
    const audience = (await ok(keys().operator, 'query { audience(key: "lal_planted") { size rule } }')).audience;
    expect(audience).toEqual({ size: otherHalf.size, rule: null });
    // Analysts may not create audiences; a seed under 100 customers is refused.
    const denied = await post(keys().analyst, LOOKALIKE, { input: { key: 'lal_denied', seed: 'planted_seed', size: 10 } });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await ok(keys().operator, CREATE, { input: { key: 'tiny_seed', rule: { dimension: 'customer.gender', op: 'EQ', values: ['x'] } } });
    const tiny = await post(keys().operator, LOOKALIKE, { input: { key: 'lal_tiny', seed: 'tiny_seed', size: 10 } });
    expect(tiny.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(tiny.errors?.[0]?.message).toMatch(/at least 100/);
  });

  it("counts only the customers inside a key's row-level scope", async () => {
    const scoped = await createApiKey(database.db, 'analyst-scoped', 'analyst', {
      scope: { dimension: 'customer.channel', op: 'EQ', values: [PLANTED.channel] },
    });
    const data = await ok(scoped, COMPARE, { target: { rule: PLANTED_GOAL }, reference: { all: true }, features: ['customer.channel', 'customer.risk_level'] });
    const branch = (await warehouseCounts('channel')).find((r) => r.value === PLANTED.channel) as { n: number; converted: number };
    const values = data.audienceComparison.values as Value[];
    expect(values.filter((v) => v.feature === 'customer.channel').map((v) => [v.value, v.referenceCustomers])).toEqual([[PLANTED.channel, branch.n]]);
    expect(data.audienceComparison.targetCustomers).toBe(branch.converted);
    const tree = await ok(scoped, TREE, { input: { population: { all: true }, goal: PLANTED_GOAL, features: ['customer.risk_level'], maxDepth: 1 } });
    expect(tree.attributionTree.nodes[0].customers).toBe(branch.n);
  });

  it('drafts a strategy from a tree node (its rule saved as an audience) and from a lookalike, refusing bad references without writing', async () => {
    const DRAFT = `mutation D($input: DraftStrategyFromInsightInput!) { draftStrategyFromInsight(input: $input) {
      audience { key size rule } strategy { kind key status } } }`;
    const input = { population: { all: true }, goal: PLANTED_GOAL, features: FEATURES, maxDepth: 2, minNodeCustomers: 100 };
    const nodes = (await ok(keys().operator, TREE, { input })).attributionTree.nodes as Node[];
    const best = nodes.filter((n) => n.rule !== null).sort((a, b) => (b.lift ?? 0) - (a.lift ?? 0))[0] as Node;
    const draft = { placement: 'home_banner', content: 'home_banner_default' };
    const fromNode = (await ok(keys().operator, DRAFT, { input: { ...draft, rule: best.rule, audienceKey: 'best_node' } })).draftStrategyFromInsight;
    expect(fromNode.audience).toEqual({ key: 'best_node', size: best.customers, rule: best.rule });
    expect(fromNode.strategy).toEqual({ kind: 'STRATEGY', key: 'best_node_on_home_banner', status: 'DRAFT' });
    const fromLookalike = (await ok(keys().operator, DRAFT, { input: { ...draft, audience: 'lal_planted', key: 'lal_planted_banner' } }))
      .draftStrategyFromInsight;
    expect(fromLookalike.audience.rule).toBeNull();
    expect(fromLookalike.strategy.key).toBe('lal_planted_banner');
    const count = async () => Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.definitions`.execute(database.db)).rows[0]?.n);
    const before = await count();
    for (const [bad, code] of [
      [{ ...draft, content: 'no_such_content', rule: best.rule, audienceKey: 'never_made' }, 'NOT_FOUND'],
      [{ ...draft, rule: best.rule }, 'BAD_USER_INPUT'],
      [{ ...draft, rule: best.rule, audience: 'lal_planted', audienceKey: 'never_made' }, 'BAD_USER_INPUT'],
      [{ ...draft, rule: best.rule, audienceKey: 'never_made', key: 'best_node_on_home_banner' }, 'CONFLICT'],
    ] as const) {
      const body = await post(keys().operator, DRAFT, { input: bad });
      expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe(code);
    }
    expect(await count()).toBe(before);
    const analyst = await post(keys().analyst, DRAFT, { input: { ...draft, audience: 'lal_planted', key: 'by_analyst' } });
    expect(analyst.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('cuts numbers at declared bins', async () => {
    const data = await ok(keys().analyst, COMPARE, {
      target: { rule: PLANTED_GOAL },
      reference: { all: true },
      features: ['customer.city_tier'],
      bins: [{ feature: 'customer.city_tier', edges: [2, 3] }],
    });
    const labels = (data.audienceComparison.values as Value[]).map((v) => v.value).sort();
    expect(labels).toEqual(['< 2', '>= 3', '[2, 3)']);
  });
});
