/**
 * Insight at production scale (issue 18), on a PostgreSQL database with the demo data
 * (default `strata_bench_1m`, 1,000,000 customers; `--url` names another, e.g. a small one):
 *   (a) audienceComparison: fund buyers against everyone over 10 features (56 values at 1M,
 *       printed per feature: dimensions, enum and boolean tags, two continuous numeric tags
 *       in deciles): wall time, target < 2 s at 1M;
 *   (b) attributionTree: depth 3 over the same 10 features, goal a succeeded purchase in
 *       30 days (an aggregate of transactions): wall time, target < 10 s at 1M;
 *   (c) createLookalikeAudience: 5,000 customers like the fund buyers (a seed audience the bench
 *       creates), over every dimension and tag: wall time, target < 60 s at 1M; once, as an
 *       operator; the bench's audiences are removed afterwards;
 * (a) and (b) the median of `--rounds` runs in this process, as an analyst sees them (small
 * cells suppressed), with the process's peak RSS (target < 512 MB). A database without a
 * profile snapshot is materialized first.
 *
 *   npx tsx bench/insight.ts [--url postgres://...] [--rounds 3] [--features a,b,...] [--parts comparison,tree,lookalike]
 *
 * `--features` replaces the 10 features below (the same list for the comparison and the tree);
 * `--parts` runs only those measurements.
 */
import { parseArgs } from 'node:util';
import { openDatabase } from '../store/database.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { domainTagRuntime } from '../api/domain-tag-runtime.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { currentSnapshot } from '../services/snapshot.ts';
import { viewerOf } from '../services/access.ts';
import { audienceComparison } from '../services/audience-comparison.ts';
import { attributionTree } from '../services/attribution-tree.ts';
import { parseRule } from '../modeling/conditions/parse-rule.ts';
import { createAudience } from '../services/audiences.ts';
import { createLookalikeAudience } from '../services/lookalike.ts';
import { sql } from 'kysely';
import { ensureMillionDatabase } from './support/million-database.ts';
import { describeMachine, loadAverage, peakRssMb } from './support/machine.ts';
import { formatTable, median } from './support/stats.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    features: { type: 'string' },
    parts: { type: 'string', default: 'comparison,tree,lookalike' },
  },
});
const ROUNDS = Math.max(1, Number(values.rounds));
const PARTS = new Set(values.parts.split(',').map((p) => p.trim()));

// 10 features, 56 values at 1,000,000 (printed per feature): 5 + 5 + 5 + 2 + 4 + 4 + 7 (6 product types and none)
// + 2, and two continuous numbers in deciles (10 bins and none).
const DEFAULT_FEATURES = [
  'customer.channel',
  'customer.risk_level',
  'customer.age_band',
  'customer.gender',
  'customer.city_tier',
  'customer.tag.aum_tier',
  'customer.tag.preferred_product_type',
  'customer.tag.dormant_90d',
  'customer.tag.aum_amount',
  'customer.tag.purchase_amount_90d',
];
const FEATURES = values.features ? values.features.split(',').map((f) => f.trim()) : DEFAULT_FEATURES;
const FUND_BUYERS = parseRule({ tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] });
const PURCHASED_30D = parseRule({ aggregate: { measure: 'transaction.purchase_amount', window: { days: 30 } }, op: 'GT', values: ['0'] });

const url = values.url ?? (await ensureMillionDatabase());
const database = await openDatabase({ databaseUrl: url, poolSize: 4, statementTimeoutMs: 0 });
const domain = bundledDomain();
const runtime = domainTagRuntime(database, domain);
console.log(`machine: ${describeMachine()}`);
if (!(await currentSnapshot(database.db))) {
  const started = performance.now();
  await materializeDomain(database, domain, { statementTimeoutMs: 0 });
  console.log(`materialized the tags first: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const customers = Number(
  (
    await database.db
      .selectFrom('strata.current_profiles')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst()
  )?.n ?? 0,
);
const viewer = viewerOf({ name: 'bench-analyst', role: 'analyst', clearance: 'internal', via: 'key' }, 10);

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number[]; last: T }> {
  const seconds: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    last = await work();
    seconds.push((performance.now() - started) / 1000);
  }
  return { seconds, last: last as T };
}

console.log(`customers in the snapshot: ${customers.toLocaleString('en')}; load average at start ${loadAverage()[0].toFixed(2)}`);
const rows: string[][] = [];
if (PARTS.has('comparison')) {
  const comparison = await timed(() => audienceComparison(runtime, viewer, { target: { rule: FUND_BUYERS }, reference: { all: true }, features: FEATURES }));
  const { values: answered, features } = comparison.last;
  rows.push([
    `audienceComparison, ${FEATURES.length} features`,
    `${answered.length} values (${answered.filter((v) => v.suppressed).length} suppressed)`,
    median(comparison.seconds).toFixed(2),
    Math.max(...comparison.seconds).toFixed(2),
    '< 2 s at 1M',
  ]);
  console.log(`values per feature: ${FEATURES.map((f) => `${f} ${answered.filter((v) => v.feature === f).length}`).join(', ')}`);
  console.log(
    `top features: ${features
      .slice(0, 3)
      .map((f) => `${f.feature} V=${f.cramersV?.toFixed(3)}`)
      .join(', ')}`,
  );
}
if (PARTS.has('tree')) {
  const tree = await timed(() =>
    attributionTree(runtime, viewer, {
      population: { all: true },
      goal: PURCHASED_30D,
      features: FEATURES,
      maxDepth: 3,
      minNodeCustomers: Math.max(100, Math.round(customers / 1000)),
    }),
  );
  rows.push([
    `attributionTree, depth 3, ${FEATURES.length} features`,
    `${tree.last.nodes.length} nodes`,
    median(tree.seconds).toFixed(2),
    Math.max(...tree.seconds).toFixed(2),
    '< 10 s at 1M',
  ]);
  console.log(`first split: ${tree.last.nodes[1] ? `${tree.last.nodes[1].feature} = ${tree.last.nodes[1].value}` : 'none'}`);
}
if (PARTS.has('lookalike')) {
  const operator = viewerOf({ name: 'bench-operator', role: 'operator', clearance: 'personal', via: 'key' }, 10);
  const SEED_KEY = 'bench_insight_fund_buyers';
  const LOOKALIKE_KEY = 'bench_insight_lookalike';
  const removeBenchAudiences = async () => {
    for (const key of [SEED_KEY, LOOKALIKE_KEY]) {
      await sql`UPDATE strata.customer_profiles SET audiences = array_remove(audiences, ${key}) WHERE ${key} = ANY(audiences)`.execute(database.db);
      await sql`DELETE FROM strata.definitions WHERE kind = 'audience' AND key = ${key}`.execute(database.db);
    }
  };
  await removeBenchAudiences();
  await createAudience(runtime, operator, { key: SEED_KEY, rule: FUND_BUYERS });
  const started = performance.now();
  const lookalike = await createLookalikeAudience(runtime, operator, { key: LOOKALIKE_KEY, seed: SEED_KEY, size: 5000, randomSeed: 1 });
  const seconds = (performance.now() - started) / 1000;
  await removeBenchAudiences();
  const q = lookalike.model.quality;
  rows.push([
    'createLookalikeAudience, 5,000 like fund buyers',
    `${lookalike.size} members, ${lookalike.model.trainingCustomers} trained`,
    seconds.toFixed(2),
    seconds.toFixed(2),
    '< 60 s at 1M',
  ]);
  console.log(
    `lookalike quality: auc ${q.auc?.toFixed(3)}, precision at k ${q.precisionAtK?.toFixed(3)}, top-decile lift ${q.liftTopDecile?.toFixed(2)}, ${q.holdoutCustomers} held-out seed customers`,
  );
}
console.log(formatTable(['what', 'answer', `median s (${ROUNDS})`, 'max s', 'target'], rows));
console.log(`load average at the end ${loadAverage()[0].toFixed(2)}`);
console.log(`peak RSS of this process: ${peakRssMb()} MB (target < 512 MB)`);
await database.close();
