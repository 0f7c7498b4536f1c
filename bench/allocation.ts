/**
 * Bytes allocated and CPU per `customer(id) { tags { key value } }` request, or with `--decide`
 * per `decide` of two placements (every decision logged; issue 17) (issue 13: the
 * young-generation scavenges these allocations cause set the p99), measured in process: the
 * app as `strata serve` builds it (NODE_ENV=production, no anonymous role, an app key whose
 * rate limit never refuses but still runs) listening on a port of this process, its client in
 * a worker thread (a separate V8 heap, so none of the client's allocations are counted), on a
 * throwaway PostgreSQL database of `--customers` (200) that is dropped after, or `--database
 * NAME`. No load test: after a warm-up, `--requests` (10,000) requests, `--concurrency` (10) at a time,
 * for CPU, then `--sampled` (3,000) more under the heap profiler, for bytes.
 *
 * Bytes per request: V8's sampling heap profiler (every object, including those the
 * scavenger and the mark-compactor already collected) over the measured requests, divided by
 * them (a 512-byte sampling interval); with `--top N`, the N functions that allocate most;
 * with `--retained`, only the bytes of those requests still reachable after a full collection
 * (what requests leave behind: caches, buffers, leaks; they are promoted, and make scavenges longer);
 * with `--promoted`, those and the bytes that survived scavenges into the old generation before dying. CPU per request: this thread's CPU
 * (`process.threadCpuUsage`, the server's JavaScript thread; not the worker's) over the same
 * requests. Load-independent for bytes; CPU still shows the machine's load.
 *
 * `--general` runs every request through graphql-js `execute` (neither api/profile-read-executor.ts
 * nor api/decide-executor.ts); `--revalidate` validates `decide`'s impressions again like a
 * client's events, `--in-flight N` writes N impression statements at once (default 1).
 *
 *   npx tsx bench/allocation.ts [--requests 10000] [--sampled 3000] [--concurrency 10] [--customers 200] [--database NAME] [--top 25] [--retained | --promoted] [--query TEXT] [--decide] [--general] [--revalidate] [--in-flight 1]
 */
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { benchDatabaseUrl } from './support/million-database.ts';
import { describeMachine, loadAverage } from './support/machine.ts';
import { openDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { createApiKey } from '../store/api-keys.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { seedDemoDecisions } from '../api/demo-decisions.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { databaseOptions, loadConfig } from '../api/config.ts';
import { setLogLevel } from '../store/logger.ts';
import { createApp } from '../api/app.ts';
import { runStatement } from './support/admin-connection.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    sampled: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '10' },
    customers: { type: 'string', default: '200' },
    database: { type: 'string' },
    top: { type: 'string', default: '0' },
    retained: { type: 'boolean', default: false },
    promoted: { type: 'boolean', default: false },
    general: { type: 'boolean', default: false },
    decide: { type: 'boolean', default: false },
    revalidate: { type: 'boolean', default: false },
    'in-flight': { type: 'string', default: '1' },
    query: { type: 'string' },
  },
});
const DECIDE = 'mutation Decide($c: String!, $p: [String!]!) { decide(customerId: $c, placements: $p) { decisionId content { key } } }';
const PROFILE = 'query Profile($id: String!) { customer(id: $id) { tags { key value } } }';
const QUERY = values.query ?? (values.decide ? DECIDE : PROFILE);
const ADMIN_URL = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const SAMPLED = Number(values.sampled);
/** Node 23.9+: the CPU of this thread alone (the types of @types/node in use do not declare it yet). */
const threadCpuUsage = (process as unknown as { threadCpuUsage(previous?: NodeJS.CpuUsage): NodeJS.CpuUsage }).threadCpuUsage.bind(process);
/** Results go to stderr, with the server's own log lines (the access log goes to /dev/null). */
const print = (line: string) => process.stderr.write(`${line}\n`);

const admin = (text: string) => runStatement(ADMIN_URL, text);

/** The client: `count` POSTs over keep-alive connections, `concurrency` at a time, each answer checked. */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { port, key, ids, query, decide } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let next = 0;
function one(id) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query, variables: decide ? { c: id, p: ['home_banner', 'wealth_mall_top'] } : { id } });
    const prefix = decide ? '{"data":{"decide":[{' : '{"data":{"customer":{';
    const request = http.request({ port, host: '127.0.0.1', path: '/graphql', method: 'POST', agent,
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key, 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => (response.statusCode === 200 && text.startsWith(prefix) ? resolve() : reject(new Error(response.statusCode + ' ' + text))));
    });
    request.on('error', reject);
    request.end(body);
  });
}
parentPort.on('message', async ({ count, concurrency }) => {
  try {
    let left = count;
    const lane = async () => { while (left > 0) { left -= 1; await one(ids[next++ % ids.length]); } };
    await Promise.all(Array.from({ length: concurrency }, lane));
    parentPort.postMessage({ ok: true });
  } catch (error) { parentPort.postMessage({ ok: false, error: String(error) }); }
});
`;

interface ProfileNode {
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly selfSize: number;
  readonly children: ProfileNode[];
}

const name = values.database ?? `strata_bench_alloc_${randomBytes(4).toString('hex')}`;
const url = benchDatabaseUrl(name);
if (!values.database) await admin(`CREATE DATABASE ${name}`);
let worker: Worker | undefined;
try {
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: url,
    NODE_ENV: 'production',
    STRATA_ANONYMOUS_ROLE: 'none',
    STRATA_RATE_PROFILES: '1000000/2000000',
    PORT: '0',
  });
  setLogLevel(config.logLevel);
  const database = await openDatabase(databaseOptions(config));
  if (!values.database) {
    await migrateToLatest(database.db);
    await seedDemoData(database, { customers: Number(values.customers), seed: 17 });
    await materializeDomain(database, bundledDomain());
  }
  if (values.decide) await seedDemoDecisions(database, bundledDomain());
  const ids = (
    await database.prepared<{ id: string }>('alloc_ids', 'SELECT customer_id AS id FROM strata.current_profiles ORDER BY customer_id LIMIT 5000', [])
  ).map((r) => r.id);
  const key = await createApiKey(database.db, `bench-alloc-${randomBytes(3).toString('hex')}`, 'app');
  // --general: every request through graphql-js `execute`, as before api/profile-read-executor.ts and api/decide-executor.ts.
  // The access log written as the server writes it (store/logger.ts), to /dev/null instead of stderr.
  const accessLog = pino({ level: config.logLevel, base: undefined }, pino.destination('/dev/null'));
  const app = await createApp(database, bundledDomain(), {
    ...config,
    logger: accessLog,
    graphqlProfileReadExecutor: !values.general,
    graphqlDecideExecutor: !values.general,
    decideImpressionBatches: Number(values['in-flight']),
    revalidateDecideImpressions: values.revalidate,
  });
  const port = await app.listen(0);
  const client = new Worker(CLIENT, { eval: true, workerData: { port, key, ids, query: QUERY, decide: values.decide } });
  worker = client;
  const run = (count: number) =>
    new Promise<void>((resolve, reject) => {
      client.once('message', (m: { ok: boolean; error?: string }) => (m.ok ? resolve() : reject(new Error(m.error))));
      client.postMessage({ count, concurrency: CONCURRENCY });
    });
  // Warm-up: the document cached, the code optimized, the pools filled.
  await run(Math.min(5000, REQUESTS));
  const load = loadAverage();
  const cpu = threadCpuUsage();
  const started = performance.now();
  await run(REQUESTS);
  const elapsed = performance.now() - started;
  const used = threadCpuUsage(cpu);
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: !values.retained || values.promoted,
    includeObjectsCollectedByMinorGC: !values.retained && !values.promoted,
  });
  await run(SAMPLED);
  // --retained: only what is still reachable after a full collection (what the requests keep).
  if (values.retained) await session.post('HeapProfiler.collectGarbage');
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  session.disconnect();
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode) => {
    total += node.selfSize;
    if (node.selfSize > 0) {
      const { functionName, url: file, lineNumber } = node.callFrame;
      const site = `${functionName || '(anonymous)'} ${file.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(api|services|resolvers|store|modeling)\//, '$1/')}:${lineNumber + 1}`;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  print(`machine: ${describeMachine()}`);
  print(
    `${REQUESTS} requests, ${CONCURRENCY} at a time, ${Math.round((REQUESTS * 1000) / elapsed)} req/s in process; load average ${load.map((l) => l.toFixed(2)).join(' ')}`,
  );
  print(
    `bytes ${values.retained ? 'still reachable after a full collection' : values.promoted ? 'promoted to the old generation or still reachable' : 'allocated'} per request: ${Math.round(total / SAMPLED).toLocaleString('en')} (sampled over ${SAMPLED} more requests)`,
  );
  print(`server thread CPU per request: ${((used.user + used.system) / REQUESTS).toFixed(1)} µs`);
  const top = Number(values.top);
  if (top > 0) {
    print(`\nlargest allocation sites (bytes per request):`);
    for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) print(`${String(Math.round(bytes / SAMPLED)).padStart(7)}  ${site}`);
  }
  await client.terminate();
  worker = undefined;
  await app.close();
  await database.close();
} finally {
  await worker?.terminate();
  if (!values.database) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
