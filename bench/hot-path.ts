/**
 * Server CPU per request on the app teams' hot paths (issues 13 and 17), the measure that
 * stays repeatable on a shared machine where req/s does not: `customer(id) { tags { key value } }`
 * and `decide` for two placements (every decision logged), each under autocannon from this
 * process against the compiled server (`strata serve`, NODE_ENV=production, no anonymous
 * role, an app key whose rate limit never refuses but still runs). For each: requests
 * answered, req/s, p50/p99, and CPU microseconds per request of the server process and of
 * this database's PostgreSQL backends (from /proc), with the load average.
 *
 * By default it seeds a throwaway database of `--customers` (5,000) and drops it after; with
 * `--database NAME` it uses that database, seeding it first (and keeping it) when it does not
 * exist yet, and publishing the demo decisions there if missing: never on the 1M database
 * unless asked. `--cpu-prof DIR`
 * runs the server with `node --cpu-prof` and writes its profile there when it stops.
 *
 * First, in this process without HTTP or database, the CPU of Apollo Server's pipeline per
 * `customer(id)` request as served, without the request plugins, and graphql-js `execute`
 * alone (`--iterations`).
 *
 *   npx tsx bench/hot-path.ts [--customers 5000] [--seconds 10] [--connections 20] [--database NAME] [--only pipeline|profile|decide] [--cpu-prof DIR]
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDatabaseUrl } from './support/million-database.ts';
import { describeMachine, loadAverage, peakRssMb } from './support/machine.ts';
import { startStrataServer } from './support/strata-server.ts';
import { runLoad, type LoadOptions } from './support/load-test.ts';
import { postgresCpuSeconds, processCpuSeconds } from './support/cpu-usage.ts';
import { formatTable } from './support/stats.ts';
import { apolloPipelineCosts } from './support/apollo-pipeline.ts';
import { openDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { createApiKey } from '../store/api-keys.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { seedDemoDecisions } from '../api/demo-decisions.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { runStatement, withClient } from './support/admin-connection.ts';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    database: { type: 'string' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    iterations: { type: 'string', default: '20000' },
  },
});
const ADMIN_URL = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PLACEMENTS = ['home_banner', 'wealth_mall_top'];
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const WARMUP_SECONDS = 3;

const admin = (text: string) => runStatement(ADMIN_URL, text);

const exists = (database: string) =>
  withClient(ADMIN_URL, async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1);

const PROFILE = 'query Profile($id: String!) { customer(id: $id) { tags { key value } } }';
const DECIDE = 'mutation Decide($c: String!, $p: [String!]!) { decide(customerId: $c, placements: $p) { decisionId content { key } } }';

/** A warm-up, then the measured load with the server's and PostgreSQL's CPU counted around it. */
async function measure(label: string, pid: number, database: string, options: LoadOptions): Promise<string[]> {
  await runLoad({ ...options, seconds: WARMUP_SECONDS });
  const load = loadAverage();
  const server = processCpuSeconds(pid);
  const postgres = postgresCpuSeconds(database);
  const result = await runLoad(options);
  const perRequest = (seconds: number) => ((seconds * 1e6) / result.requests).toFixed(0);
  return [
    label,
    result.requests.toLocaleString('en'),
    Math.round(result.requestsPerSecond).toLocaleString('en'),
    `${result.p50Ms} / ${result.p99Ms}`,
    perRequest(processCpuSeconds(pid) - server),
    perRequest(postgresCpuSeconds(database) - postgres),
    String(result.failures),
    load.map((l) => l.toFixed(1)).join(' '),
  ];
}

console.log(`machine: ${describeMachine()}`);
if (values.only === undefined || values.only === 'pipeline') {
  const load = loadAverage();
  const rows = await apolloPipelineCosts(Number(values.iterations));
  console.log(
    `\n(a) Apollo Server per customer(id) request in this process, no HTTP, no database (load average ${load.map((l) => l.toFixed(1)).join(' ')})\n${formatTable(['', 'CPU µs per request'], rows)}`,
  );
  if (values.only === 'pipeline') process.exit(0);
}
const name = values.database ?? `strata_bench_hot_${randomBytes(4).toString('hex')}`;
const url = benchDatabaseUrl(name);
// A named database that does not exist yet is created, seeded and kept for the next runs.
const fresh = !values.database || !(await exists(name));
if (fresh) await admin(`CREATE DATABASE ${name}`);
try {
  const database = await openDatabase({ databaseUrl: url, poolSize: 2 });
  let key: string;
  let ids: string[];
  try {
    if (fresh) {
      await migrateToLatest(database.db);
      const seeded = await seedDemoData(database, { customers: Number(values.customers), seed: 17 });
      await materializeDomain(database, bundledDomain());
      console.log(`seeded ${seeded.customers} customers into ${name} and materialized their profiles`);
    }
    await seedDemoDecisions(database, bundledDomain());
    ids = (
      await database.prepared<{ id: string }>('bench_ids', 'SELECT customer_id AS id FROM strata.current_profiles ORDER BY md5(customer_id) LIMIT 5000', [])
    ).map((r) => r.id);
    key = await createApiKey(database.db, `bench-hot-${randomBytes(3).toString('hex')}`, 'app');
  } finally {
    await database.close();
  }
  const profileDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
  const server = await startStrataServer({
    DATABASE_URL: url,
    NODE_ENV: 'production',
    STRATA_ANONYMOUS_ROLE: 'none',
    STRATA_RATE_PROFILES: '1000000/2000000',
    ...(profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
  });
  const rows: string[][] = [];
  let serverPeakMb: number | undefined;
  try {
    const headers = { authorization: `Bearer ${key}` };
    let i = 0;
    const pick = () => ids[i++ % ids.length] as string;
    if (values.only !== 'decide') {
      rows.push(
        await measure('customer(id) { tags }', server.pid, name, {
          url: `${server.url}/graphql`,
          seconds: SECONDS,
          connections: CONNECTIONS,
          headers,
          body: () => JSON.stringify({ query: PROFILE, variables: { id: pick() } }),
          check: (body) => body.startsWith('{"data":{"customer":{"tags":['),
        }),
      );
    }
    if (values.only !== 'profile') {
      rows.push(
        await measure(`decide (${PLACEMENTS.length} placements)`, server.pid, name, {
          url: `${server.url}/graphql`,
          seconds: SECONDS,
          connections: CONNECTIONS,
          headers,
          body: () => JSON.stringify({ query: DECIDE, variables: { c: pick(), p: PLACEMENTS } }),
          check: (body) => body.startsWith('{"data":{"decide":[{') && !body.includes('"errors"'),
        }),
      );
    }
  } finally {
    serverPeakMb = server.peakRssMb();
    await server.stop();
  }
  console.log(`server peak RSS ${serverPeakMb ?? '?'} MB, this process ${peakRssMb()} MB`);
  console.log(
    `\n${CONNECTIONS} connections x ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up${profileDir ? `; CPU profile in ${profileDir}` : ''}\n${formatTable(
      ['request', 'answered', 'req/s', 'p50 / p99 ms', 'server CPU µs/req', 'PostgreSQL CPU µs/req', 'failed', 'load average'],
      rows,
    )}`,
  );
} finally {
  if (!values.database) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
