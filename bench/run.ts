/**
 * `npm run bench`: every bench in sequence, each in its own process (`npx tsx bench/<name>.ts`)
 * with its output passed through: the demo seed (20,000 customers, PGlite), start-up of the
 * compiled CLI and server (PGlite), plan compile times (no database), metrics, profiles, insight, rollups and monitoring (1,000,000 customers, PostgreSQL),
 * then events, decide and hot-path (server CPU per request; each a throwaway PostgreSQL database of 5,000 customers), dbt, limits and experiment results
 * (BENCH_EXPOSED exposed customers in a throwaway PostgreSQL database), the scale-plan
 * measurements (`strata_bench_1m`), the SQL endpoint (translation, 32 connections, SQL
 * against GraphQL at 1,000,000 customers) and the web console (initial JS, cockpit time to
 * interactive in Chromium, requests per widget; 1,000,000 customers) when their files exist.
 * Arguments after `--` name the benches to run (`npm run bench -- metrics profiles`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeMachine, peakRssMb } from './support/machine.ts';
import { formatTable } from './support/stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCHES = [
  'seed',
  'startup',
  'compile',
  'metrics',
  'profiles',
  'insight',
  'rollups',
  'monitoring',
  'events',
  'decide',
  'hot-path',
  'allocation',
  'dbt',
  'limits',
  'experiments',
  'scale-plan',
  'sql-endpoint',
  'console',
] as const;

function runBench(name: string): Promise<{ code: number; seconds: number }> {
  const started = performance.now();
  const child = spawn('npx', ['tsx', `bench/${name}.ts`], { cwd: ROOT, stdio: 'inherit' });
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), seconds: (performance.now() - started) / 1000 }));
  });
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(BENCHES as readonly string[]).includes(name));
if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; choose from ${BENCHES.join(', ')}`);

console.log(`machine: ${describeMachine()}`);
const summary: string[][] = [];
for (const name of BENCHES) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  if (!existsSync(`${ROOT}bench/${name}.ts`)) {
    console.log(`\n=== bench/${name}.ts is absent: skipped`);
    summary.push([name, 'skipped (absent)', '']);
    continue;
  }
  console.log(`\n=== bench/${name}.ts`);
  const { code, seconds } = await runBench(name);
  summary.push([name, code === 0 ? 'ok' : `failed (exit ${code})`, seconds.toFixed(0)]);
}
console.log(`\n${formatTable(['bench', 'result', 'seconds'], summary)}`);
console.log(`peak RSS of the runner: ${peakRssMb()} MB`);
if (summary.some(([, result]) => result?.startsWith('failed'))) process.exitCode = 1;
