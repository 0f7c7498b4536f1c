import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `npm test` after its `npm run lint` (package.json): the type check, the build and vitest, in that order,
 * stopping at the first that fails; then the wall time of each and of the whole run, and
 * the test counts as one plain line (`tests: N passed, N failed, N skipped`). Arguments
 * are passed on to vitest (`npm test -- test/events.test.ts`).
 */

interface Step {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
}

interface VitestCounts {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

const folder = mkdtempSync(join(tmpdir(), 'strata-test-'));
const report = join(folder, 'vitest.json');
const steps: Step[] = [
  { name: 'typecheck', command: 'npx', args: ['tsc', '--noEmit'] },
  // dist/ for the suites that run the compiled CLI (test/cli.test.ts), built once before they run.
  { name: 'build', command: process.execPath, args: ['scripts/build.mjs'] },
  { name: 'vitest', command: 'npx', args: ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)] },
];

/** `7 min 12 s`, `38 s`. */
function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
}

function readCounts(): VitestCounts | undefined {
  try {
    return JSON.parse(readFileSync(report, 'utf8')) as VitestCounts;
  } catch {
    return undefined;
  }
}

const started = performance.now();
const times: string[] = [];
let status = 0;
for (const step of steps) {
  const stepStarted = performance.now();
  const run = spawnSync(step.command, step.args, { stdio: 'inherit' });
  times.push(`${step.name} ${duration(performance.now() - stepStarted)}`);
  status = run.status ?? 1;
  if (status !== 0) {
    console.error(`npm test: ${step.name} failed`);
    break;
  }
}
const counts = readCounts();
rmSync(folder, { recursive: true, force: true });
console.log(`\nnpm test: ${times.join(', ')}; wall time ${duration(performance.now() - started)}`);
if (counts) {
  const skipped = counts.numPendingTests + counts.numTodoTests;
  console.log(`tests: ${counts.numPassedTests} passed, ${counts.numFailedTests} failed, ${skipped} skipped`);
}
process.exitCode = status;
