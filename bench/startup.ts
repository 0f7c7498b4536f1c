/**
 * Start-up of the compiled CLI and server on embedded PGlite: how long a command takes, how
 * long `npm start` takes until `GET /ready` answers 200 on an existing data folder, and the
 * server's memory. Figures are medians (and maxima) over `--runs` runs, with the load average.
 *
 *   npx tsx bench/startup.ts [--runs N] [--fresh-clone]
 *
 * `--fresh-clone` also measures a newcomer's first `npm ci && npm start` (clone of this
 * checkout's HEAD in a temporary folder, until ready): several minutes, so not by default.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine, loadAverage, peakRssMb, processPeakRssMb, waitForQuietMachine } from './support/machine.ts';
import { formatTable, median } from './support/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'fresh-clone': { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
const rows: string[][] = [];

/** Runs a command to its end; its wall time in seconds (it must succeed). */
function timed(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd = ROOT): number {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return (performance.now() - started) / 1000;
}

function record(what: string, seconds: readonly number[], target: string): void {
  rows.push([what, median(seconds).toFixed(2), Math.max(...seconds).toFixed(2), target]);
  console.log(`${what}: median ${median(seconds).toFixed(2)} s, max ${Math.max(...seconds).toFixed(2)} s over ${seconds.length} (load ${loadAverage()[0]})`);
}

interface Started {
  readonly seconds: number;
  readonly pid: number;
  readonly port: number;
  readonly child: ChildProcess;
}

/** `npm start` on `dataDir` until /ready answers 200; the server's pid is the one in the folder's lock file. */
async function npmStart(dataDir: string, cwd = ROOT, timeoutMs = 600_000): Promise<Started> {
  const started = performance.now();
  const child = spawn('npm', ['start'], {
    cwd,
    env: { ...process.env, STRATA_DATA_DIR: dataDir, PORT: '0', STRATA_SQL_PORT: '0', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
    detached: true,
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
    const owner = readLock(dataDir);
    if (owner?.port !== undefined) {
      const status = await fetch(`http://127.0.0.1:${owner.port}/ready`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return { seconds: (performance.now() - started) / 1000, pid: owner.pid, port: owner.port, child };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`npm start was not ready within ${timeoutMs} ms`);
}

function readLock(dataDir: string): { pid: number; port?: number } | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'strata.lock'), 'utf8')) as { pid: number; port?: number };
  } catch {
    return undefined;
  }
}

/** SIGTERM to the server; resolves when npm has exited. */
async function stop(server: Started): Promise<void> {
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  process.kill(server.pid, 'SIGTERM');
  await exited;
}

function currentRssMb(pid: number): number | undefined {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : undefined;
}

console.log(`machine: ${describeMachine()}`);
await waitForQuietMachine();
timed('node', ['scripts/build.mjs'], process.env);
const dataDir = mkdtempSync(join(tmpdir(), 'strata-startup-'));
const cli = (args: readonly string[]) => timed(process.execPath, ['dist/api/cli.js', ...args], { ...process.env, STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
try {
  console.log('creating the demo data folder (first `npm start`: migrate, seed, materialize)...');
  const first = await npmStart(dataDir);
  console.log(`first \`npm start\` on an empty folder: ready in ${first.seconds.toFixed(1)} s`);
  await stop(first);

  const help = Array.from({ length: RUNS }, () => cli(['--help']));
  record('`node dist/api/cli.js --help`', help, '< 1.5 s');
  const npmHelp = Array.from({ length: RUNS }, () => timed('npm', ['run', '--silent', 'strata', '--', '--help'], process.env));
  record('`npm run strata -- --help` (npm, build check)', npmHelp, '< 1.5 s');
  const direct = Array.from({ length: RUNS }, (_, i) => cli(['keys', 'create', '--role', 'analyst', '--name', `bench-direct-${i}`]));
  record('`keys create`, no server (opens PGlite)', direct, '< 1.5 s');

  const starts: number[] = [];
  const rss: number[] = [];
  const peaks: number[] = [];
  let server: Started | undefined;
  for (let i = 0; i < RUNS; i += 1) {
    if (server) await stop(server);
    server = await npmStart(dataDir);
    starts.push(server.seconds);
    // Settled: V8 optimizes PGlite's WebAssembly in the background for a few seconds after it opens.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    rss.push(currentRssMb(server.pid) ?? Number.NaN);
    peaks.push(processPeakRssMb(server.pid) ?? Number.NaN);
  }
  record('`npm start` on an existing folder until /ready is 200', starts, '< 5 s');
  const viaServer = Array.from({ length: RUNS }, (_, i) => cli(['keys', 'create', '--role', 'analyst', '--name', `bench-server-${i}`]));
  record('`keys create` sent to the running server', viaServer, '< 1.5 s');
  if (server) await stop(server);
  console.log(`server RSS 5 s after ready: median ${median(rss)} MB; peak RSS during start-up: median ${median(peaks)} MB, max ${Math.max(...peaks)} MB`);
  rows.push(['server RSS 5 s after ready / peak during start-up (MB)', `${median(rss)} / ${median(peaks)}`, `${Math.max(...rss)} / ${Math.max(...peaks)}`, '']);

  if (values['fresh-clone']) {
    const clone = mkdtempSync(join(tmpdir(), 'strata-clone-'));
    try {
      execFileSync('git', ['clone', '--quiet', ROOT, clone]);
      const started = performance.now();
      timed('npm', ['ci', '--no-audit', '--no-fund'], process.env, clone);
      const installed = (performance.now() - started) / 1000;
      const fresh = await npmStart(join(clone, '.strata-data'), clone);
      const total = installed + fresh.seconds;
      console.log(`fresh clone: npm ci ${installed.toFixed(1)} s, then npm start ready in ${fresh.seconds.toFixed(1)} s: ${total.toFixed(1)} s`);
      rows.push(['fresh clone: `npm ci && npm start` until ready', total.toFixed(1), total.toFixed(1), '< 90 s']);
      await stop(fresh);
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  }
} finally {
  const owner = readLock(dataDir);
  if (owner && existsSync(`/proc/${owner.pid}`)) process.kill(owner.pid, 'SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}

console.log(`\n${formatTable(['what', 'median', 'max', 'target'], rows)}`);
console.log(`peak RSS of the bench process: ${peakRssMb()} MB`);
