/**
 * Experiment results on PostgreSQL: N exposed customers (one or two `placement_impression`
 * events each, 0.5 % of them in both variants), goal events, background events and
 * purchases, in a throwaway database; then `experimentResults` for an event goal and for a
 * metric goal (per-customer values through the semantic layer, CUPED, one guardrail),
 * timed over a few runs. The database is dropped afterwards.
 *
 *   npx tsx bench/experiments.ts        (BENCH_EXPOSED=20000 BENCH_RUNS=3 BENCH_KEEP=0; main runs 1,000,000)
 *
 * BENCH_KEEP=1 keeps the database (for EXPLAIN); BENCH_REUSE=<name> measures on a kept one
 * instead of seeding a new one (and keeps it). Statements run without a timeout: seeding a
 * million exposures takes longer than the server's default on a busy machine.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { openDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { wealthDomain } from '../domains/wealth/index.ts';
import { experimentResults } from '../services/experiment-results.ts';
import type { ExperimentInput } from '../services/experiment-definitions.ts';
import { describeMachine, loadAverage, peakRssMb } from './support/machine.ts';
import { formatTable, median } from './support/stats.ts';
import { runStatement } from './support/admin-connection.ts';

const ADMIN_URL = process.env.STRATA_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EXPOSED = Number(process.env.BENCH_EXPOSED ?? 20_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Keep the database for EXPLAIN (its name is printed); drop it yourself afterwards. */
const REUSE = process.env.BENCH_REUSE;
const KEEP = process.env.BENCH_KEEP === '1' || REUSE !== undefined;

const admin = (text: string) => runStatement(ADMIN_URL, text);

const experiment: ExperimentInput = {
  key: 'bench_banner',
  variants: [
    { key: 'control', weight: 0.5 },
    { key: 'treatment', weight: 0.5 },
  ],
  goal: { event: 'purchase_success', windowDays: 7 },
};

/** Customers c0000001.., exposed from 2026-09-01 over 20 days; variant by parity; every 200th also sees the other variant. */
async function seed(db: Kysely<DatabaseSchema>): Promise<void> {
  const seeded = performance.now();
  await sql`INSERT INTO wealth.customers (customer_id, registered_at, channel, city_tier, age_band, gender, risk_level, account_class)
    SELECT 'c' || lpad(i::text, 7, '0'), timestamptz '2025-01-01', 'app', 1 + i % 4, '25-34', 'F', 'C3', 'type1' FROM generate_series(1, ${EXPOSED}) AS i`.execute(
    db,
  );
  await sql`INSERT INTO wealth.products (product_id, name, product_type, risk_rating, launched_at) VALUES ('p1', 'Bench fund', 'bond_fund', 'R2', '2024-01-01')`.execute(
    db,
  );
  await sql`INSERT INTO wealth.app_events (event_id, customer_id, event_name, occurred_at, channel, placement_id, properties)
    SELECT 'x' || i || '-' || k, 'c' || lpad(i::text, 7, '0'), 'placement_impression',
      timestamptz '2026-09-01T02:00:00Z' + make_interval(mins => (i * 7) % (20 * 24 * 60)) + make_interval(hours => k * 5), 'app', 'home_banner',
      jsonb_build_object('experiment', 'bench_banner', 'decision_id', 'x' || i || '-' || k,
        'variant', CASE WHEN (i + CASE WHEN k = 1 AND i % 200 = 0 THEN 1 ELSE 0 END) % 2 = 0 THEN 'control' ELSE 'treatment' END)
    FROM generate_series(1, ${EXPOSED}) AS i, generate_series(0, 1) AS k WHERE k = 0 OR i % 3 = 0`.execute(db);
  // Goal events (about 12 % of control and 14 % of treatment inside the window, some before it) and background events.
  await sql`INSERT INTO wealth.app_events (event_id, customer_id, event_name, occurred_at, channel, properties)
    SELECT 'g' || i, 'c' || lpad(i::text, 7, '0'), 'purchase_success',
      timestamptz '2026-09-01T02:00:00Z' + make_interval(mins => (i * 7) % (20 * 24 * 60)) + make_interval(hours => (i % 300) - 60), 'app', '{}'
    FROM generate_series(1, ${EXPOSED}) AS i WHERE (i * 37) % 100 < 12 + 2 * (i % 2)`.execute(db);
  await sql`INSERT INTO wealth.app_events (event_id, customer_id, event_name, occurred_at, channel, properties)
    SELECT 'b' || i || '-' || k, 'c' || lpad(i::text, 7, '0'), 'app_open', timestamptz '2026-08-20T00:00:00Z' + make_interval(hours => (i + k * 97) % 1000), 'app', '{}'
    FROM generate_series(1, ${EXPOSED}) AS i, generate_series(1, 3) AS k`.execute(db);
  await sql`INSERT INTO wealth.transactions (txn_id, customer_id, product_id, txn_type, amount, status, channel, occurred_at)
    SELECT 't' || i || '-' || k, 'c' || lpad(i::text, 7, '0'), 'p1', 'purchase', 100 + (i * 13 + k * 7) % 5000, 'succeeded', 'app',
      timestamptz '2026-08-25T02:00:00Z' + make_interval(hours => (i * 11 + k * 53) % (35 * 24))
    FROM generate_series(1, ${EXPOSED}) AS i, generate_series(1, 2) AS k WHERE (i * 31 + k) % 100 < 20`.execute(db);
  await sql`ANALYZE`.execute(db);
  console.log(`seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
}

console.log(`machine: ${describeMachine()}`);
if (REUSE !== undefined && !/^strata_bench_exp_[a-z0-9]+$/.test(REUSE))
  throw new Error('BENCH_REUSE names a database kept by this bench (strata_bench_exp_...)');
const name = REUSE ?? `strata_bench_exp_${Date.now().toString(36)}`;
if (REUSE === undefined) await admin(`CREATE DATABASE ${name}`);
const database = await openDatabase({ databaseUrl: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`), poolSize: 2, statementTimeoutMs: 0 });
try {
  await migrateToLatest(database.db);
  const db = database.db;
  if (REUSE === undefined) await seed(db);
  const counts = await sql<{ events: number; txns: number; exposed: number }>`
    SELECT (SELECT COUNT(*)::int FROM wealth.app_events) AS events, (SELECT COUNT(*)::int FROM wealth.transactions) AS txns,
      (SELECT COUNT(*)::int FROM wealth.customers) AS exposed`.execute(db);
  const exposed = counts.rows[0]?.exposed ?? 0;
  console.log(
    `${REUSE === undefined ? 'seeded' : `reused ${name}:`} ${exposed.toLocaleString('en-US')} exposed customers, ${counts.rows[0]?.events.toLocaleString('en-US')} events, ${counts.rows[0]?.txns.toLocaleString('en-US')} transactions; load average ${loadAverage()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const semantic = createSemanticLayer(wealthDomain().catalog, { maxRows: 100_000, subject: 'customer' });
  const cases: [string, ExperimentInput][] = [
    ['event goal (z-test, CUPED, SRM)', experiment],
    ['metric goal purchase_amount (Welch, CUPED, SRM)', { ...experiment, goal: { metric: 'purchase_amount', windowDays: 7 } }],
    ['event goal + 1 guardrail metric', { ...experiment, guardrails: ['purchase_amount'] }],
  ];
  const rows: string[][] = [];
  for (const [label, input] of cases) {
    const times: number[] = [];
    let last: Awaited<ReturnType<typeof experimentResults>> | undefined;
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      last = await experimentResults(database.analytics, input, { semantic, subject: 'customer', minSubjects: 10 });
      times.push(performance.now() - started);
    }
    const [control, treatment] = last?.variants ?? [];
    rows.push([
      label,
      `${control?.exposures ?? '-'} / ${treatment?.exposures ?? '-'}`,
      String(last?.multipleExposures ?? '-'),
      treatment?.pValue === undefined ? '-' : treatment.pValue.toExponential(2),
      (median(times) / 1000).toFixed(2),
      (Math.min(...times) / 1000).toFixed(2),
      createHash('sha256').update(JSON.stringify(last)).digest('hex').slice(0, 12),
    ]);
  }
  console.log(
    `\nexperiment results, ${exposed.toLocaleString('en-US')} exposed customers, ${RUNS} runs each (PostgreSQL)\n${formatTable(['case', 'exposures c/t', 'multiple', 'p (treatment)', 'median s', 'min s', 'results digest'], rows)}`,
  );
  console.log(
    `peak RSS of this process: ${peakRssMb()} MB; load average at the end ${loadAverage()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await database.close();
  if (KEEP) console.log(`kept database ${name}`);
  else await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
