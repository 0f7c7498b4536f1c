import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

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

interface VitestReport {
  numFailedTests: number;
  testResults: { name: string; assertionResults: { status: string }[] }[];
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const folder = mkdtempSync(join(tmpdir(), 'strata-test-'));
const report = join(folder, 'vitest.json');
const rerunReport = join(folder, 'vitest-rerun.json');
const vitestArgs = (outputFile: string, files: readonly string[]) => [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${outputFile}`,
  ...files,
];
const steps: Step[] = [
  { name: 'typecheck', command: 'npx', args: ['tsc', '--noEmit'] },
  // dist/ for the suites that run the compiled CLI (test/cli.test.ts), built once before they run.
  { name: 'build', command: process.execPath, args: ['scripts/build.mjs'] },
  { name: 'vitest', command: 'npx', args: vitestArgs(report, process.argv.slice(2)) },
];

/** `7 min 12 s`, `38 s`. */
function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
}

function readReport(path: string): VitestReport | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as VitestReport;
  } catch {
    return undefined;
  }
}

/** Counted test by test, leaving out `skipFiles`; a test a dead worker left `pending` is in no count. */
function countsOf(vitest: VitestReport, skipFiles: readonly string[] = []): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const file of vitest.testResults.filter((result) => !skipFiles.includes(result.name))) {
    for (const test of file.assertionResults) {
      if (test.status === 'passed') counts.passed += 1;
      else if (test.status === 'failed') counts.failed += 1;
      else if (test.status === 'skipped' || test.status === 'todo') counts.skipped += 1;
    }
  }
  return counts;
}

/**
 * The files a dead vitest worker took with it. A forked worker that exits in the middle of a
 * file (vitest 4 says only "Worker exited unexpectedly") leaves that file's running test
 * `pending` and the ones after it uncounted, and exits 1 with no failed test; every other
 * file finishes on the other workers. Those files, and no file with a failed test, are what
 * may run again; an empty list means the failure is the suite's own.
 */
function unfinishedFiles(vitest: VitestReport): string[] {
  if (vitest.numFailedTests > 0) return [];
  return vitest.testResults.filter((file) => file.assertionResults.some((test) => test.status === 'pending')).map((file) => file.name);
}

/** The kernel's log, where a worker killed by the OOM killer or a segfault leaves its only trace ([] when it cannot be read). */
function kernelLog(): string[] {
  const dmesg = spawnSync('dmesg', [], { encoding: 'utf8' });
  return dmesg.status === 0 ? dmesg.stdout.split('\n') : [];
}

const kernelLines = kernelLog().length;
const started = performance.now();
const times: string[] = [];
let status = 0;
let counts: Counts | undefined;
for (const step of steps) {
  const stepStarted = performance.now();
  const run = spawnSync(step.command, step.args, { stdio: 'inherit' });
  status = run.status ?? 1;
  const vitest = step.name === 'vitest' ? readReport(report) : undefined;
  counts = vitest ? countsOf(vitest) : counts;
  const again = status !== 0 && vitest ? unfinishedFiles(vitest) : [];
  if (vitest && again.length > 0) {
    // Said loudly, and decided by the second run alone: a file that fails or dies again fails the suite.
    console.error(
      `\nnpm test: a vitest worker exited in the middle of ${again.map((file) => relative(process.cwd(), file)).join(', ')}; every other file finished. Running ${again.length === 1 ? 'that file' : 'those files'} once more, on ${again.length === 1 ? 'its' : 'their'} own.`,
    );
    const kernel = kernelLog()
      .slice(kernelLines)
      .filter((line) => /segfault|out of memory|killed process|general protection|traps:/i.test(line));
    if (kernel.length > 0) console.error(`npm test: the kernel logged meanwhile:\n${kernel.join('\n')}`);
    const rerun = spawnSync('npx', vitestArgs(rerunReport, again), { stdio: 'inherit' });
    const second = readReport(rerunReport);
    status = rerun.status ?? 1;
    if (second && status === 0 && unfinishedFiles(second).length === 0) {
      const first = countsOf(vitest, again);
      const repeated = countsOf(second);
      counts = { passed: first.passed + repeated.passed, failed: first.failed + repeated.failed, skipped: first.skipped + repeated.skipped };
    } else {
      status = status === 0 ? 1 : status;
    }
  }
  times.push(`${step.name} ${duration(performance.now() - stepStarted)}`);
  if (status !== 0) {
    console.error(`npm test: ${step.name} failed`);
    break;
  }
}
rmSync(folder, { recursive: true, force: true });
console.log(`\nnpm test: ${times.join(', ')}; wall time ${duration(performance.now() - started)}`);
if (counts) console.log(`tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exitCode = status;
