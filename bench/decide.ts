/**
 * The decision layer (issue 17) on PostgreSQL:
 *   (a) in-process decision time per placement, profile already loaded (decidePlacement over
 *       the cached model), beside the GrowthBook SDK's `evalFeature` for an equivalent
 *       experiment (same seed, weights, coverage) in the same run;
 *   (b) the fatigue read of one decision: the counter table's primary-key probe against
 *       counting the same impressions in `wealth.app_events` (what a design without counters
 *       would run per decision);
 *   (c) `decide` for two placements over HTTP under autocannon (a random customer per
 *       request, every decision logged): req/s, p50, p99, and a check that each answered
 *       decision left exactly one impression; then `customer(id)` under the same load, as a
 *       baseline of the machine at that moment.
 * By default it seeds a throwaway database of `--customers` (5,000) and drops it after; with
 * `--database NAME` it uses an existing one (migrated, seeded and materialized), publishing
 * the demo decisions there if missing. Never run it on the 1M database unless asked.
 *
 *   (c') with `--rate N`, `decide` again at an offered load of N requests/s over the same
 *       connections (the target's 2,000): the p99 at that rate, not at saturation, where a
 *       closed loop's latency is connections / throughput whatever the server does. The load
 *       is open (bench/support/open-load.ts: a request due every 1/N s, its latency counted
 *       from when it was due), not autocannon's `overallRate`, which sends each second's
 *       share in a burst at saturation and pads its histogram with synthetic samples.
 * Beside each load, the CPU milliseconds per request of the server process, of the database's
 * PostgreSQL backends and of this process (the load generator).
 *
 *   npx tsx bench/decide.ts [--customers 5000] [--seconds 10] [--connections 20] [--database NAME] [--rate N]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { GrowthBookClient } from '@growthbook/growthbook';
import { benchDatabaseUrl } from './support/million-database.ts';
import { describeMachine, loadAverage, peakRssMb } from './support/machine.ts';
import { startStrataServer } from './support/strata-server.ts';
import { runLoad } from './support/load-test.ts';
import { runOpenLoad } from './support/open-load.ts';
import { startCpuCount, type CpuSplit } from './support/cpu-usage.ts';
import { formatTable, quantile } from './support/stats.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { createApiKey } from '../store/api-keys.ts';
import { readProfiles } from '../services/snapshot.ts';
import { readImpressionCounts } from '../store/decision-store.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { seedDemoDecisions } from '../api/demo-decisions.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { createDecisionService } from '../services/decisions.ts';
import { createEventCollector } from '../store/event-collector.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { decidePlacement } from '../decisioning/decide-placement.ts';
import type { TargetedCustomer } from '../decisioning/decision-model.ts';
import { runStatement } from './support/admin-connection.ts';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    database: { type: 'string' },
    rate: { type: 'string' },
  },
});
const ADMIN_URL = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PLACEMENTS = ['home_banner', 'wealth_mall_top'];

const admin = (text: string) => runStatement(ADMIN_URL, text);

const micros = (samples: number[]) => [quantile(samples, 0.5), quantile(samples, 0.99)].map((v) => (v * 1000).toFixed(1));

async function inProcess(database: Database, ids: readonly string[]): Promise<string[][]> {
  const domain = bundledDomain();
  const tags = createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.subject), domain.tags);
  const events = createEventCollector(database, domain.events, { channels: domain.channels });
  const service = createDecisionService({ database, events, tags, timeZone: 'Asia/Shanghai', channels: domain.channels });
  const model = await service.model();
  const rows = await readProfiles(database, ids);
  const customers: TargetedCustomer[] = rows.map((r) => ({ id: r.customer_id, known: true, tags: r.tags, audiences: new Set(r.audiences) }));
  const now = new Date();
  const rounds = 20;
  const table: string[][] = [];
  for (const key of PLACEMENTS) {
    const placement = model.placements.get(key);
    if (!placement) throw new Error(`placement ${key} is not live`);
    for (const customer of customers) decidePlacement({ placement, customer, counts: [], now, timeZone: model.timeZone });
    const started = performance.now();
    for (let r = 0; r < rounds; r++) for (const customer of customers) decidePlacement({ placement, customer, counts: [], now, timeZone: model.timeZone });
    const perDecision = ((performance.now() - started) * 1000) / (rounds * customers.length);
    table.push([`decidePlacement ${key}`, perDecision.toFixed(2)]);
  }
  const experiment = (await service.cache.current()).registry.live.experiments.find((e) => e.key === 'home_banner_copy');
  if (experiment) {
    const client = new GrowthBookClient({}).initSync({
      payload: {
        features: {
          home_banner_copy: {
            defaultValue: null,
            rules: [
              {
                key: experiment.key,
                seed: experiment.seed,
                hashVersion: 2,
                coverage: experiment.coverage,
                weights: experiment.variants.map((v) => v.weight),
                variations: experiment.variants.map((v) => v.content),
              },
            ],
          },
        },
      },
    });
    for (const c of customers) client.evalFeature('home_banner_copy', { attributes: { id: c.id } });
    const started = performance.now();
    for (let r = 0; r < rounds; r++) for (const c of customers) client.evalFeature('home_banner_copy', { attributes: { id: c.id } });
    table.push(['GrowthBook evalFeature (same experiment)', (((performance.now() - started) * 1000) / (rounds * customers.length)).toFixed(2)]);
  }
  service.close();
  return table;
}

async function fatigueReads(database: Database, url: string, ids: readonly string[]): Promise<string[][]> {
  const since = new Date(Date.now() - 31 * 86_400_000).toISOString().slice(0, 10);
  const probe: number[] = [];
  for (const id of ids) {
    const t = performance.now();
    await readImpressionCounts(database, id, since);
    probe.push(performance.now() - t);
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const scan: number[] = [];
  try {
    for (const id of ids) {
      const t = performance.now();
      await client.query(
        `SELECT placement_id, properties->>'content_id' AS content, (occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*)
         FROM wealth.app_events WHERE customer_id = $1 AND event_name = 'placement_impression' AND occurred_at >= $2::date GROUP BY 1, 2, 3`,
        [id, since],
      );
      scan.push(performance.now() - t);
    }
  } finally {
    await client.end();
  }
  return [
    ['counter table probe (ms)', ...micros(probe).map((v) => (Number(v) / 1000).toFixed(3))],
    ['count in app_events (ms)', ...micros(scan).map((v) => (Number(v) / 1000).toFixed(3))],
  ];
}

/** `server / postgres / loader` CPU milliseconds per request, and the machine's busy cores meanwhile. */
function perRequest(split: CpuSplit, requests: number): string {
  const ms = (seconds: number) => ((seconds * 1000) / Math.max(1, requests)).toFixed(3);
  return `${ms(split.server)} / ${ms(split.postgres)} / ${ms(split.loader)}`;
}

async function overHttp(database: Database, url: string, databaseName: string, ids: readonly string[]): Promise<string[][]> {
  const key = await createApiKey(database.db, `bench-decide-${randomBytes(3).toString('hex')}`, 'app');
  const server = await startStrataServer({ DATABASE_URL: url, STRATA_RATE_PROFILES: 'off' });
  const answered: string[] = [];
  try {
    const query = 'mutation($c: String!, $p: [String!]!) { decide(customerId: $c, placements: $p) { decisionId content { key } } }';
    let i = 0;
    const decideBody = () => JSON.stringify({ query, variables: { c: ids[i++ % ids.length], p: PLACEMENTS } });
    // Every answer must carry a decision per placement; its ids are checked against the impressions logged.
    const checkDecisions = (body: string) => {
      const decisions = (JSON.parse(body) as { data?: { decide?: { decisionId: string }[] } }).data?.decide ?? [];
      answered.push(...decisions.map((d) => d.decisionId));
      return decisions.length === PLACEMENTS.length;
    };
    const closedCpu = startCpuCount(server.pid, databaseName);
    const result = await runLoad({
      url: `${server.url}/graphql`,
      seconds: Number(values.seconds),
      connections: Number(values.connections),
      headers: { authorization: `Bearer ${key}` },
      body: decideBody,
      check: checkDecisions,
    });
    const closedSplit = closedCpu();
    const rateCpu = startCpuCount(server.pid, databaseName);
    const atRate = values.rate
      ? await runOpenLoad({
          url: `${server.url}/graphql`,
          seconds: Number(values.seconds),
          connections: Number(values.connections),
          rate: Number(values.rate),
          headers: { authorization: `Bearer ${key}` },
          body: decideBody,
          check: checkDecisions,
        })
      : undefined;
    const rateSplit = rateCpu();
    const logged = await database.prepared<{ n: string; distinct_ids: string }>(
      'bench_logged',
      `SELECT count(*) AS n, count(DISTINCT event_id) AS distinct_ids FROM wealth.app_events WHERE event_id = ANY($1::text[]) AND event_name = 'placement_impression'`,
      [answered],
    );
    // The same load on a profile read of the same customers: a baseline of this machine at this moment.
    let j = 0;
    const baseline = await runLoad({
      url: `${server.url}/graphql`,
      seconds: Number(values.seconds),
      connections: Number(values.connections),
      headers: { authorization: `Bearer ${key}` },
      body: () => JSON.stringify({ query: 'query($id: String!) { customer(id: $id) { tags { key value } } }', variables: { id: ids[j++ % ids.length] } }),
    });
    return [
      ['customer(id) baseline req/s', baseline.requestsPerSecond.toFixed(0)],
      ['baseline p50 / p99 ms', `${baseline.p50Ms} / ${baseline.p99Ms}`],
      ['decide (2 placements) req/s', result.requestsPerSecond.toFixed(0)],
      ['p50 / p99 / p99.9 ms', `${result.p50Ms} / ${result.p99Ms} / ${result.p999Ms}`],
      ['failures', String(result.failures)],
      ['  CPU ms per request: server / postgres / load generator', perRequest(closedSplit, result.requests)],
      ...(atRate
        ? [
            [`decide at an offered ${values.rate} req/s (open loop): req/s`, atRate.requestsPerSecond.toFixed(0)],
            [
              '  p50 / p99 / p99.9 / max ms, failures or unanswered 10 s after',
              `${atRate.p50Ms} / ${atRate.p99Ms} / ${atRate.p999Ms} / ${atRate.maxMs}, ${atRate.failures}`,
            ],
            ['  from the write: p50 / p99 ms; waited for a connection', `${atRate.sentP50Ms} / ${atRate.sentP99Ms}; ${atRate.queued}`],
            ['  CPU ms per request: server / postgres / load generator', perRequest(rateSplit, atRate.requests)],
          ]
        : []),
      ['answered decisions / their impressions logged', `${answered.length} / ${logged[0]?.n ?? 0}`],
      ['server peak RSS (MB)', String(server.peakRssMb() ?? '?')],
    ];
  } finally {
    await server.stop();
  }
}

console.log(
  `machine: ${describeMachine()}, load average ${loadAverage()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
const name = values.database ?? `strata_bench_decide_${randomBytes(4).toString('hex')}`;
const url = benchDatabaseUrl(name);
if (!values.database) await admin(`CREATE DATABASE ${name}`);
const database = await openDatabase({ databaseUrl: url, poolSize: 4 });
try {
  if (!values.database) {
    await migrateToLatest(database.db);
    const seeded = await seedDemoData(database, { customers: Number(values.customers), seed: 17 });
    await materializeDomain(database, bundledDomain());
    console.log(`seeded ${seeded.customers} customers into ${name} and materialized their profiles`);
  }
  await seedDemoDecisions(database, bundledDomain());
  const ids = (
    await database.prepared<{ id: string }>('bench_ids', 'SELECT customer_id AS id FROM strata.current_profiles ORDER BY md5(customer_id) LIMIT 1000', [])
  ).map((r) => r.id);
  console.log(`\n(a) in-process decision, profile loaded (${ids.length} customers)\n${formatTable(['', 'µs per decision'], await inProcess(database, ids))}`);
  console.log(
    `\n(b) fatigue read per decision (${Math.min(ids.length, 500)} customers)\n${formatTable(['', 'p50', 'p99'], await fatigueReads(database, url, ids.slice(0, 500)))}`,
  );
  console.log(`\n(c) decide over HTTP\n${formatTable(['', ''], await overHttp(database, url, name, ids))}`);
} finally {
  await database.close();
  if (!values.database) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
console.log(
  `\npeak RSS of this process: ${peakRssMb()} MB; load average at the end ${loadAverage()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
