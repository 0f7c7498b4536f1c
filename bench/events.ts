/**
 * Event ingestion throughput on PostgreSQL: `POST /v1/events` and the `trackEvents` mutation,
 * batches of 500 fresh events, load from autocannon in this process against the server in a
 * child process. Afterwards every acknowledged event must be in `wealth.app_events`.
 *
 *   npx tsx bench/events.ts            (BENCH_SECONDS=15 BENCH_CONNECTIONS=8 BENCH_BATCH=500)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import pg from 'pg';
import { openDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { createApiKey } from '../store/api-keys.ts';
import { runStatement } from './support/admin-connection.ts';

const ADMIN_URL = process.env.STRATA_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);

interface Histogram {
  p50: number;
  p99: number;
  average: number;
}
interface Result {
  duration: number;
  latency: Histogram;
  requests: Histogram & { total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  method: string;
  headers: Record<string, string>;
  requests: { setupRequest: (request: RawRequest) => RawRequest; onResponse: (status: number, body: string) => void }[];
}) => Promise<Result>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const NAMES = ['app_open', 'page_view', 'placement_impression', 'placement_click', 'product_view', 'purchase_submit'] as const;
const TRACK = 'mutation Track($events: [TrackEventInput!]!) { trackEvents(events: $events) { accepted duplicates rejected { index code message } } }';
const runId = Date.now().toString(36);
let sequence = 0;

/**
 * A batch of fresh, valid events of the common kinds, as JSON text. Built from strings, not
 * objects and `JSON.stringify`, so the load generator takes as little CPU from the server as it can.
 */
function batchJson(): string {
  const now = Date.now();
  const stamps = Array.from({ length: 60 }, (_, minute) => new Date(now - minute * 60_000).toISOString());
  const events: string[] = [];
  for (let i = 0; i < BATCH; i += 1) {
    sequence += 1;
    const name = NAMES[sequence % NAMES.length]!;
    const head = `{"eventId":"${runId}-${sequence}","name":"${name}","customerId":"c${sequence % 100_000}","occurredAt":"${stamps[sequence % 60]}","channel":"app"`;
    switch (name) {
      case 'page_view':
        events.push(`${head},"page":"fund_list","properties":{"referrer":"home"}}`);
        break;
      case 'placement_impression':
      case 'placement_click':
        events.push(`${head},"placementId":"home_banner","properties":{"content_id":"promo-7","position":0}}`);
        break;
      case 'product_view':
        events.push(`${head},"productId":"p0042","properties":{"source":"search"}}`);
        break;
      case 'purchase_submit':
        events.push(`${head},"productId":"p0042","properties":{"amount":${1000 + (sequence % 9000)},"order_id":"o${sequence}"}}`);
        break;
      default:
        events.push(`${head},"properties":{"app_version":"8.2.0","os":"ios"}}`);
    }
  }
  return `[${events.join(',')}]`;
}

const admin = (text: string) => runStatement(ADMIN_URL, text);

async function startServer(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  // `node --import tsx` rather than `npx tsx`: one process, so its peak RSS is the server's.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=.scratch/server-prof'] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'api/cli.ts', 'serve', '--port', '0'], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      STRATA_MAX_BODY_BYTES: String(8 * 1024 * 1024),
      STRATA_SQL_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /localhost:(\d+)\/graphql/.exec(out)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { child, url };
}

function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

/**
 * CPU seconds used so far by a process, or by every process whose command line matches
 * (PostgreSQL backends name their database there).
 */
function cpuSeconds(match: { pid: number } | { cmdline: RegExp }): number {
  const ticks = (pid: string) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ');
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  };
  if ('pid' in match) return ticks(String(match.pid)) / 100;
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  return (
    pids
      .filter((p) => {
        try {
          return match.cmdline.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'));
        } catch {
          return false;
        }
      })
      .reduce((sum, p) => sum + ticks(p), 0) / 100
  );
}

/** CPU seconds the whole machine was busy (every process, every core). */
function machineBusySeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const ticks = fields.map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - ticks[3]! - ticks[4]!) / 100;
}

/** Rows in `wealth.app_events` once requests cut off by the end of a run have finished. */
async function countRows(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    let previous = -1;
    for (;;) {
      const { rows } = await client.query<{ n: string }>('select count(*) as n from wealth.app_events');
      const count = Number(rows[0]!.n);
      if (count === previous) return count;
      previous = count;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await client.end();
  }
}

/** This run's backends and the shared WAL writer, checkpointer and background writer. */
let postgresOfBench = /^postgres: .*(walwriter|checkpointer|background writer)/;

async function load(label: string, url: string, body: () => string, acceptedOf: (response: any) => number, serverPid: number, token: string) {
  const cpuBefore = {
    server: cpuSeconds({ pid: serverPid }),
    postgres: cpuSeconds({ cmdline: postgresOfBench }),
    loader: process.cpuUsage(),
    machine: machineBusySeconds(),
  };
  let acknowledged = 0;
  let rejected = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    timeout: 30,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: body() }),
        onResponse: (status, text) => {
          if (status !== 200) return;
          const parsed = JSON.parse(text);
          acknowledged += acceptedOf(parsed);
          rejected += (parsed.rejected ?? parsed.data?.trackEvents?.rejected ?? []).length;
        },
      },
    ],
  });
  const perSecond = acknowledged / result.duration;
  const loaderCpu = process.cpuUsage(cpuBefore.loader);
  const share = (seconds: number) => `${Math.round((seconds / result.duration) * 100)}%`;
  const used = {
    server: cpuSeconds({ pid: serverPid }) - cpuBefore.server,
    postgres: cpuSeconds({ cmdline: postgresOfBench }) - cpuBefore.postgres,
    loader: (loaderCpu.user + loaderCpu.system) / 1e6,
    machine: machineBusySeconds() - cpuBefore.machine,
  };
  const others = Math.max(0, used.machine - used.server - used.postgres - used.loader);
  const cpu =
    `CPU (100% = one core): server ${share(used.server)}, PostgreSQL ${share(used.postgres)} (this database's backends and WAL writer), ` +
    `load generator ${share(used.loader)}, other processes ${share(others)} of ${cpus().length * 100}%; ` +
    `${Math.round(acknowledged / (used.server + used.postgres + used.loader)).toLocaleString('en')} events per CPU-second of the three`;
  console.log(
    `${label.padEnd(22)} ${Math.round(perSecond).toLocaleString('en').padStart(8)} events/s  ` +
      `${result.requests.total} requests  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  ` +
      `non-2xx ${result.non2xx}  errors ${result.errors}  rejected ${rejected}\n${' '.repeat(23)}${cpu}`,
  );
  return { acknowledged, perSecond, result };
}

const name = `strata_bench_events_${runId}`;
const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
postgresOfBench = new RegExp(`^postgres: .*(walwriter|checkpointer|background writer|${name})`);
await admin(`CREATE DATABASE ${name}`);
let server: ChildProcess | undefined;
try {
  const database = await openDatabase({ databaseUrl });
  await migrateToLatest(database.db);
  const token = await createApiKey(database.db, 'bench-loader', 'app');
  await database.close();
  const started = await startServer(databaseUrl);
  server = started.child;

  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}`);
  console.log(`load: ${CONNECTIONS} connections x ${SECONDS} s, ${BATCH} events per request, server in a child process, pool 10`);

  const rest = await load('POST /v1/events', `${started.url}/v1/events`, batchJson, (r) => r.accepted ?? 0, server.pid!, token);
  const afterRest = await countRows(databaseUrl);
  const gql = await load(
    'trackEvents mutation',
    `${started.url}/graphql`,
    () => `{"query":${JSON.stringify(TRACK)},"variables":{"events":${batchJson()}}}`,
    (r) => r.data?.trackEvents?.accepted ?? 0,
    server.pid!,
    token,
  );
  const afterGraphql = await countRows(databaseUrl);

  const acknowledged = rest.acknowledged + gql.acknowledged;
  console.log(
    `acknowledged ${acknowledged.toLocaleString('en')} events; counted ${afterGraphql.toLocaleString('en')} rows ` +
      `(REST ${rest.acknowledged} acknowledged / ${afterRest} counted; GraphQL ${gql.acknowledged} / ${afterGraphql - afterRest})`,
  );
  console.log(`peak RSS of the server process: ${peakRssMb(server.pid!).toFixed(0)} MB`);
  const lost = rest.acknowledged > afterRest || gql.acknowledged > afterGraphql - afterRest;
  console.log(
    lost
      ? 'LOST: fewer rows than acknowledged events'
      : 'every acknowledged event is stored ' + '(rows beyond the acknowledged ones were committed for requests cut off when the load stopped)',
  );
  if (lost) process.exitCode = 1;
} finally {
  if (server) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server!.once('exit', resolve));
  }
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
