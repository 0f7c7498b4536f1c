/**
 * Customer profiles at production scale (issue 4), on `strata_bench_1m` (1,000,000
 * customers, PostgreSQL):
 *   (a) materializing every bundled tag (`strata materialize`, a child process): seconds, target < 60 s;
 *   (b) `customer(id) { tags { key value } }` under autocannon, a random existing id per request:
 *       req/s and p50/p99/p99.9, targets >= 2,000 req/s and p99 < 25 ms;
 *   (c) `customers(ids: [100 random ids]) { id tags { key value } }`: p99, target < 30 ms, at
 *       the same 50 connections and then at 1, 4, 8 and 16 (below saturation);
 *   (d) PostGraphile 4 (installed outside the repository) serving schema `strata` on the same
 *       database with `--dynamic-json` (tags as a JSON object, as Strata answers), the profile row
 *       by primary key under the same load: req/s, p99, Strata / PostGraphile.
 *   (e) (b) again while 8 heavy metric queries (active customers by month and risk level over a
 *       quarter, as an analyst) run back to back: profile p99, target < 25 ms. The metric queries
 *       go through the analytics lane (cores - 1 at once by default, 1 to 4; the rest wait) and its own pool.
 *   (e') at saturation (50 connections in a closed loop) p99 is mostly the queue: 50 / throughput.
 *       So (e) also offers `customer(id)` in an open loop at a stated rate (`--rate`, default the
 *       app teams' 2,000 req/s; bench/support/open-load.ts: a request due every 1/rate s over the
 *       same 50 connections, latency counted from when it was due), first with nothing else
 *       running (the baseline of this run), then while 8 heavy metric queries run: p99, target < 25 ms.
 * Also the peak RSS of the Strata server process (target < 512 MB).
 *
 * `--only b,d,e` runs only those loads (the tail of `customer(id)` without the batch sweeps of (c)).
 *
 * (e) and (e') also say where the CPU went while the heavy queries ran and how long each kind of
 * process waited for a CPU (its run queue): the server's main thread, the profile backends, the
 * analytics backends (and their nice value: `STRATA_ANALYTICS_NICE`, which the server reads from
 * this process's environment, lowers their CPU priority; compare a run with `STRATA_ANALYTICS_NICE=0`).
 *
 *   npx tsx bench/profiles.ts [--seconds 20] [--connections 50] [--no-postgraphile] [--skip-materialize] [--only b,c,d,e] [--rate 2000]
 */
import { spawn } from 'node:child_process';
import { cpus, getPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ensureMillionDatabase } from './support/million-database.ts';
import { describeMachine, loadAverage, peakRssMb, waitForQuietMachine } from './support/machine.ts';
import { startStrataServer } from './support/strata-server.ts';
import { type LoadOptions, runLoad, type LoadResult } from './support/load-test.ts';
import { runOpenLoad, type OpenLoadResult } from './support/open-load.ts';
import { ensurePostgraphile, startPostgraphile } from './support/postgraphile-server.ts';
import { formatTable } from './support/stats.ts';
import { postgresBackendPids, startCpuCount, startSchedCount } from './support/cpu-usage.ts';
import { MILLION_DATABASE } from './support/million-database.ts';
import { openDatabase } from '../store/database.ts';
import { createApiKey } from '../store/api-keys.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '50' },
    'no-postgraphile': { type: 'boolean', default: false },
    'skip-materialize': { type: 'boolean', default: false },
    only: { type: 'string', default: 'b,c,d,e' },
    rate: { type: 'string', default: '2000' },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const WARMUP_SECONDS = 3;
const BATCH = 100;
/** Connection counts for the batch lookups below saturation. */
const SWEEP = [1, 4, 8, 16];
/** The offered rate of (e')'s open loads: the app teams' 2,000 req/s. */
const RATE = Number(values.rate);
const ONLY = new Set(values.only.split(',').map((load) => load.trim()));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const SINGLE = JSON.stringify('query Profile($id: String!) { customer(id: $id) { tags { key value } } }');
const MANY = JSON.stringify('query Profiles($ids: [String!]!) { customers(ids: $ids) { id tags { key value } } }');

/** Runs `strata materialize` against the database; resolves with wall-clock seconds and its last line. */
function materializeWithCli(databaseUrl: string): Promise<{ seconds: number; output: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/cli.ts', 'materialize'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ seconds, output: output.trim().split('\n').at(-1) ?? '' });
      else reject(new Error(`strata materialize exited with ${code} after ${seconds.toFixed(1)} s: ${output.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** Random customer ids of the current profile snapshot, and its run id. */
async function sampleProfiles(databaseUrl: string, count: number): Promise<{ runId: number; ids: string[] }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const {
      rows: [snapshot],
    } = await client.query<{ run_id: number | null }>('SELECT run_id FROM strata.profile_snapshot WHERE id = 1');
    if (snapshot?.run_id == null) throw new Error('no profile snapshot: materialize first');
    const { rows } = await client.query<{ customer_id: string }>(
      'SELECT customer_id FROM strata.customer_profiles TABLESAMPLE SYSTEM (5) WHERE run_id = $1 ORDER BY random() LIMIT $2',
      [snapshot.run_id, count],
    );
    return { runId: snapshot.run_id, ids: rows.map((r) => r.customer_id) };
  } finally {
    await client.end();
  }
}

const pick = (ids: readonly string[]) => ids[Math.floor(Math.random() * ids.length)]!;

/** Where the CPU of a load went (shares of one core) and per request: the server, its PostgreSQL backends, the load generator. */
function cpuReport(used: ReturnType<ReturnType<typeof startCpuCount>>, requests: number, seconds: number): string {
  const perRequest = (cpuSeconds: number) => ((cpuSeconds * 1000) / Math.max(1, requests)).toFixed(2);
  const share = (cpuSeconds: number) => `${Math.round((cpuSeconds / seconds) * 100)}%`;
  return (
    `CPU (100% = one core, of ${cpus().length * 100}%): server ${share(used.server)}, PostgreSQL ${share(used.postgres)}, ` +
    `load generator ${share(used.loader)}, whole machine ${share(used.machine)}; ` +
    `CPU ms per request: server ${perRequest(used.server)}, PostgreSQL ${perRequest(used.postgres)}`
  );
}

/**
 * A warm-up, then the measured load; prints the load average and where the CPU went: the
 * server process, this database's PostgreSQL backends, the load generator (this process).
 */
async function measure(label: string, serverPid: number, options: Parameters<typeof runLoad>[0]): Promise<LoadResult> {
  await runLoad({ ...options, seconds: WARMUP_SECONDS });
  const load = await waitForQuietMachine();
  const cpu = startCpuCount(serverPid, MILLION_DATABASE);
  const result = await runLoad(options);
  console.log(`${label}: load average at start ${load.join(' ')}; ${cpuReport(cpu(), result.requests, options.seconds)}`);
  if (result.failures > 0) console.log(`  ${result.failures} failed requests; first: ${result.firstFailure ?? '(socket error or timeout)'}`);
  return result;
}

/**
 * `options` offered at RATE requests/s in an open loop (bench/support/open-load.ts: a request
 * due every 1/RATE s over the same connections, its latency counted from when it was due), with
 * a warm-up at the same rate when `warm` (not while the heavy queries already run: the server is warm).
 */
async function measureOpen(label: string, serverPid: number, options: LoadOptions, warm = true): Promise<OpenLoadResult> {
  const open = {
    url: options.url,
    seconds: options.seconds,
    connections: options.connections,
    rate: RATE,
    body: options.body,
    headers: options.headers ?? {},
    check: options.check,
  };
  if (warm) await runOpenLoad({ ...open, seconds: WARMUP_SECONDS });
  const load = warm ? await waitForQuietMachine() : loadAverage();
  const cpu = startCpuCount(serverPid, MILLION_DATABASE);
  const result = await runOpenLoad(open);
  console.log(
    `${label}: load average at start ${load.join(' ')}; ${Math.round(result.requestsPerSecond).toLocaleString('en')} req/s answered, ` +
      `from the write p50 ${result.sentP50Ms} ms, p99 ${result.sentP99Ms} ms; max ${result.maxMs} ms; ${result.queued} waited for a connection; ` +
      cpuReport(cpu(), result.requests, options.seconds),
  );
  if (result.failures > 0)
    console.log(`  ${result.failures} failed or unanswered requests; first: ${result.firstFailure ?? '(socket error or no answer 10 s after)'}`);
  return result;
}

/**
 * Starts counting, while heavy queries run, the CPU and run-queue wait of the server's main
 * thread, of the analytics connections' backends (application name `strata-analytics`) and of
 * this database's other backends (the profile reads'); the result is a line of shares of the
 * time elapsed since the start.
 */
async function startContentionCount(serverPid: number): Promise<() => string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const analytics = await client
    .query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'strata-analytics' AND datname = current_database()")
    .then(({ rows }) => rows.map((r) => r.pid))
    .finally(() => client.end());
  const profiles = postgresBackendPids(MILLION_DATABASE).filter((pid) => !analytics.includes(pid));
  const counts = { server: startSchedCount([serverPid]), analytics: startSchedCount(analytics), profiles: startSchedCount(profiles) };
  const nice = [...new Set(analytics.map((pid) => getPriority(pid)))].join('/');
  const started = performance.now();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const share = (s: number) => `${Math.round((s / seconds) * 100)}%`;
    const [server, heavy, reads] = [counts.server(), counts.analytics(), counts.profiles()];
    return (
      `on a CPU / waiting for one (100% = one core for the whole load): server main thread ${share(server.run)} / ${share(server.wait)}, ` +
      `${profiles.length} profile backends ${share(reads.run)} / ${share(reads.wait)}, ${analytics.length} analytics backends (nice ${nice || '-'}) ${share(heavy.run)} / ${share(heavy.wait)}`
    );
  };
}

/** A table row of a load, closed or open (for an open load, latencies from when each request was due). */
const row = (label: string, r: Pick<LoadResult, 'requestsPerSecond' | 'p50Ms' | 'p99Ms' | 'p999Ms' | 'failures'>, target: string) => [
  label,
  Math.round(r.requestsPerSecond).toLocaleString('en'),
  r.p50Ms.toFixed(1),
  r.p99Ms.toFixed(1),
  r.p999Ms.toFixed(1),
  String(r.failures),
  target,
];

console.log(`machine: ${describeMachine()}`);
console.log(`load: autocannon in this process, ${CONNECTIONS} connections x ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up; servers in child processes`);
console.log(`analytics backends' CPU priority: STRATA_ANALYTICS_NICE=${process.env.STRATA_ANALYTICS_NICE ?? '(unset: 10 for a database on this machine)'}`);
const databaseUrl = await ensureMillionDatabase();

if (!values['skip-materialize']) {
  const load = await waitForQuietMachine();
  try {
    const { seconds, output } = await materializeWithCli(databaseUrl);
    console.log(
      `\n(a) materialize (strata materialize, load average ${load.join(' ')}): ${seconds.toFixed(1)} s wall clock, ${seconds < 60 ? 'target < 60 s: ok' : 'target < 60 s: MISS'}\n    ${output}`,
    );
  } catch (error) {
    console.log(`\n(a) materialize FAILED (load average ${load.join(' ')}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

const { runId, ids } = await sampleProfiles(databaseUrl, 20_000);
console.log(`profiles: run ${runId}, ${ids.length.toLocaleString('en')} random customer ids to draw from`);
const database = await openDatabase({ databaseUrl, poolSize: 1 });
const token = await createApiKey(database.db, `bench-profiles-${Date.now().toString(36)}`, 'app');
const analystToken = await createApiKey(database.db, `bench-analyst-${Date.now().toString(36)}`, 'analyst');
await database.close();

const HEAVY = JSON.stringify(
  '{ metrics(query: { metrics: ["active_customers"], groupBy: [{ dimension: "metric_time", grain: MONTH }, { dimension: "customer.risk_level" }], timeRange: { from: "2026-08-01", to: "2026-11-01" }, useRollups: false }) { rows } }',
);

/** Keeps `count` heavy metric queries in flight until `stop` is called; resolves with how many finished and how. */
function heavyMetricLoad(url: string, count: number) {
  let running = true;
  const outcomes = { done: 0, refused: 0, failed: 0, reasons: new Set<string>(), answeredMs: [] as number[] };
  const worker = async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${analystToken}` },
        body: `{"query":${HEAVY}}`,
      }).catch(() => undefined);
      const text = response ? await response.text() : '';
      if (response?.status === 200 && !text.includes('"errors"')) {
        outcomes.done += 1;
        outcomes.answeredMs.push(performance.now() - started);
      } else if (response?.status === 429) {
        outcomes.refused += 1;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      } else {
        outcomes.failed += 1;
        outcomes.reasons.add(response ? `${response.status} ${text.slice(0, 160)}` : 'no answer');
      }
    }
  };
  const workers = Array.from({ length: count }, worker);
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return outcomes;
    },
  };
}

/** Median and longest of the heavy queries' answer times. */
function heavyLatency(ms: number[]): string {
  if (ms.length === 0) return '-';
  const sorted = [...ms].sort((a, b) => a - b);
  return `median ${((sorted[sorted.length >> 1] as number) / 1000).toFixed(1)} s, longest ${((sorted.at(-1) as number) / 1000).toFixed(1)} s`;
}

/** What became of the heavy queries of one load: answered (and how long each took, the lane's queue included), refused, failed. */
function heavyOutcome(m: Awaited<ReturnType<ReturnType<typeof heavyMetricLoad>['stop']>>): string {
  const failed = m.failed ? `: ${[...m.reasons].join(' | ')}` : '';
  return `${m.done} answered (each in ${heavyLatency(m.answeredMs)}, queueing in the lane included), ${m.refused} refused (429), ${m.failed} failed${failed}`;
}

const results: string[][] = [];
let strataSingle: LoadResult | undefined;
let strataRss: number | undefined;
// One key drives all the load: its profiles rate limit is raised above what the machine can serve,
// so the limiter still runs on every request (bench/limits.ts measures its cost) but never refuses.
// The analytics limit is raised too, so that in (e) the 8 heavy queries really run (queued by the
// analytics lane, cores - 1 at once) instead of being refused by the analyst key's rate limit.
const strata = await startStrataServer({
  DATABASE_URL: databaseUrl,
  NODE_ENV: 'production',
  STRATA_ANONYMOUS_ROLE: 'none',
  STRATA_RATE_PROFILES: '1000000/2000000',
  STRATA_RATE_ANALYTICS: '1000/2000',
});
try {
  const headers = { authorization: `Bearer ${token}` };
  /** `customer(id)` of a random customer per request, as (b) and (e) send it. */
  const singleLoad: LoadOptions = {
    url: `${strata.url}/graphql`,
    seconds: SECONDS,
    connections: CONNECTIONS,
    headers,
    body: () => `{"query":${SINGLE},"variables":{"id":"${pick(ids)}"}}`,
    check: (body) => body.startsWith('{"data":{"customer":{"tags":[{'),
  };
  if (ONLY.has('b')) {
    strataSingle = await measure('(b) Strata customer(id)', strata.pid, singleLoad);
    results.push(row('(b) Strata customer(id) { tags }', strataSingle, '>= 2,000 req/s, p99 < 25 ms'));
    console.log(`  Strata server peak RSS after (b): ${strata.peakRssMb() ?? '?'} MB`);
  }
  if (ONLY.has('c')) {
    const many = await measure(`(c) Strata customers(ids: ${BATCH})`, strata.pid, {
      url: `${strata.url}/graphql`,
      seconds: SECONDS,
      connections: CONNECTIONS,
      headers,
      body: () => `{"query":${MANY},"variables":{"ids":[${Array.from({ length: BATCH }, () => `"${pick(ids)}"`).join(',')}]}}`,
      check: (body) => body.startsWith('{"data":{"customers":[{') && !body.includes('"errors"'),
    });
    results.push(row(`(c) Strata customers(ids: ${BATCH} ids)`, many, 'p99 < 30 ms'));
    console.log(`  Strata server peak RSS after (c): ${strata.peakRssMb() ?? '?'} MB`);
    // The same requests from fewer connections: latency below saturation, where a batch
    // endpoint is meant to run (at 50 connections the queue, not the work, sets the p99).
    for (const connections of SWEEP) {
      const light = await measure(`(c') Strata customers(ids: ${BATCH}), ${connections} connections`, strata.pid, {
        url: `${strata.url}/graphql`,
        seconds: SECONDS,
        connections,
        headers,
        body: () => `{"query":${MANY},"variables":{"ids":[${Array.from({ length: BATCH }, () => `"${pick(ids)}"`).join(',')}]}}`,
        check: (body) => body.startsWith('{"data":{"customers":[{') && !body.includes('"errors"'),
      });
      results.push(row(`(c') the same, ${connections} connections`, light, 'p99 < 30 ms'));
    }
  }
  if (ONLY.has('e')) {
    // The open-loop baseline first, with nothing else running: the same offered rate as below.
    const baseline = await measureOpen(`(e') Strata customer(id) at an offered ${RATE} req/s, no heavy query`, strata.pid, singleLoad);
    const heavy = heavyMetricLoad(strata.url, 8);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    console.log(`(e) load average at start ${loadAverage().join(' ')} (the heavy queries already running)`);
    const contention = await startContentionCount(strata.pid);
    const underLoad = await runLoad(singleLoad);
    console.log(`(e) ${contention()}`);
    const metrics = await heavy.stop();
    console.log(`(e) during the profile load, 8 heavy metric queries: ${heavyOutcome(metrics)}`);
    results.push(row('(e) (b) while 8 heavy metric queries run', underLoad, 'p99 < 25 ms'));
    const heavyAtRate = heavyMetricLoad(strata.url, 8);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const contentionAtRate = await startContentionCount(strata.pid);
    const atRate = await measureOpen(`(e') Strata customer(id) at an offered ${RATE} req/s, 8 heavy metric queries`, strata.pid, singleLoad, false);
    console.log(`(e') ${contentionAtRate()}`);
    const metricsAtRate = await heavyAtRate.stop();
    console.log(`(e') during the offered ${RATE} req/s, 8 heavy metric queries: ${heavyOutcome(metricsAtRate)}`);
    results.push(row(`(e') offered ${RATE} req/s (open loop), no heavy query`, baseline, 'baseline of this run'));
    results.push(row(`(e') offered ${RATE} req/s (open loop), 8 heavy queries`, atRate, 'p99 < 25 ms'));
  }
} finally {
  strataRss = strata.peakRssMb();
  await strata.stop().catch(() => {});
}

if (!values['no-postgraphile'] && ONLY.has('d')) {
  try {
    const version = ensurePostgraphile();
    const postgraphile = await startPostgraphile(databaseUrl, 'strata');
    try {
      const query = JSON.stringify(
        'query Profile($runId: Int!, $customerId: String!) { customerProfileByRunIdAndCustomerId(runId: $runId, customerId: $customerId) { tags } }',
      );
      const other = await measure(`(d) PostGraphile ${version}`, postgraphile.pid, {
        url: `${postgraphile.url}/graphql`,
        seconds: SECONDS,
        connections: CONNECTIONS,
        body: () => `{"query":${query},"variables":{"runId":${runId},"customerId":"${pick(ids)}"}}`,
        check: (body) => body.startsWith('{"data":{"customerProfileByRunIdAndCustomerId":{"tags":{"'),
      });
      results.push(row(`(d) PostGraphile ${version} by primary key`, other, 'comparison'));
      if (strataSingle) {
        results.push([
          '    Strata / PostGraphile',
          (strataSingle.requestsPerSecond / other.requestsPerSecond).toFixed(2),
          '',
          (strataSingle.p99Ms / other.p99Ms).toFixed(2),
          '',
          '',
          'req/s ratio; p99 ratio',
        ]);
      }
      console.log(`PostGraphile peak RSS: ${postgraphile.peakRssMb() ?? '?'} MB`);
    } finally {
      await postgraphile.stop();
    }
  } catch (error) {
    console.log(`(d) PostGraphile FAILED: ${error instanceof Error ? error.message : String(error)}`);
  }
}

console.log(`\n${formatTable(['load', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'failed', 'target'], results)}`);
console.log(
  `\npeak RSS: Strata server ${strataRss ?? '?'} MB (target < 512 MB: ${strataRss !== undefined && strataRss < 512 ? 'ok' : 'MISS'}), bench process ${peakRssMb()} MB`,
);
