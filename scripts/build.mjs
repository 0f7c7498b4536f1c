// @ts-check
/**
 * Builds the web console (console/, Vite) into `dist/console/` when its sources changed, and
 * compiles the server and CLI to JavaScript in `dist/` (tsconfig.build.json: TypeScript
 * emits each file as it is, `./x.ts` imports rewritten to `./x.js`, types not checked here:
 * `npm test` and `npm run typecheck` do that). Quick when nothing changed: it compares the
 * newest source time with the last build's stamp and starts no compiler, so `npm start` and
 * `npm run strata` can build every time. Safe to run concurrently (a lock folder serializes
 * builds). Files a source deletes disappear from `dist/` on the next build.
 *
 *   node scripts/build.mjs [--force]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The folders compiled into dist/ (tests excluded): keep in step with tsconfig.build.json. */
const SOURCES = ['api', 'decisioning', 'modeling', 'resolvers', 'services', 'store', 'migrations', 'domains'];
/** Files whose change means a rebuild besides the sources. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'];
const STAMP = '.build-stamp';
/** The console's inputs: its sources and operations, and the server files it bundles (the permission table). */
const CONSOLE_INPUTS = ['console', 'services/authorization.ts', 'modeling/errors.ts', 'package-lock.json'];
const CONSOLE_STAMP = 'console/.build-stamp';
const LOCK_STALE_MS = 10 * 60_000;

const { values } = parseArgs({ options: { force: { type: 'boolean', default: false } } });
/** Always `dist/` beside the sources: store/project-files.ts finds the project root from there. */
const out = join(ROOT, 'dist');

/** The newest modification time (ms) of the compiled sources, their folders and the build inputs. */
function newestSourceTime() {
  let newest = 0;
  const visit = (/** @type {string} */ dir) => {
    newest = Math.max(newest, statSync(dir).mtimeMs);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const folder of SOURCES) if (existsSync(join(ROOT, folder))) visit(join(ROOT, folder));
  for (const file of INPUTS) newest = Math.max(newest, statSync(join(ROOT, file)).mtimeMs);
  return newest;
}

function isCurrent() {
  const stamp = join(out, STAMP);
  return !values.force && existsSync(stamp) && statSync(stamp).mtimeMs >= newestSourceTime();
}

/** Waits for (or takes over a stale) lock folder; returns its release. */
async function lockBuild() {
  const lock = `${out}.build-lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST') throw error;
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      else await new Promise((done) => setTimeout(done, 250));
    }
  }
}

/** Removes compiled files whose source is gone, so dist/ holds nothing the sources do not. */
function prune() {
  const visit = (/** @type {string} */ dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.js') && !existsSync(join(ROOT, relative(out, path)).replace(/\.js$/, '.ts'))) rmSync(path);
    }
  };
  for (const folder of SOURCES) if (existsSync(join(out, folder))) visit(join(out, folder));
}

function compile() {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    console.error(`build: ${relative(ROOT, out)}/ is out of date and TypeScript is not installed: run \`npm ci\` (with dev dependencies)`);
    process.exit(1);
  }
  // The stamp carries the start time: a source saved during the build makes the next one rebuild.
  const started = new Date();
  process.stderr.write(`building ${relative(ROOT, out)}/ (TypeScript to JavaScript)...\n`);
  const args = [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out, '--tsBuildInfoFile', join(out, '.tsbuildinfo')];
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build: tsc failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
  prune();
  writeFileSync(join(out, STAMP), `${started.toISOString()}\n`);
  utimesSync(join(out, STAMP), started, started);
  process.stderr.write(`built in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s\n`);
}

/** The newest modification time (ms) of the console's inputs. */
function newestConsoleTime() {
  let newest = 0;
  const visit = (/** @type {string} */ path) => {
    const stat = statSync(path);
    newest = Math.max(newest, stat.mtimeMs);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
  };
  for (const input of CONSOLE_INPUTS) if (existsSync(join(ROOT, input))) visit(join(ROOT, input));
  return newest;
}

function isConsoleCurrent() {
  const stamp = join(out, CONSOLE_STAMP);
  return !values.force && existsSync(stamp) && statSync(stamp).mtimeMs >= newestConsoleTime();
}

function buildConsole() {
  let vite;
  try {
    vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  } catch {
    // An install without dev dependencies serves the console built beforehand, if any.
    if (existsSync(join(out, 'console', 'index.html'))) return;
    console.error('build: the web console is not built and Vite is not installed: run `npm ci` (with dev dependencies); the API runs without it');
    return;
  }
  const started = new Date();
  process.stderr.write(`building ${relative(ROOT, out)}/console/ (the web console, Vite)...\n`);
  const result = spawnSync(process.execPath, [vite, 'build', '--config', join(ROOT, 'console', 'vite.config.ts')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) {
    console.error(`build: vite failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
  writeFileSync(join(out, CONSOLE_STAMP), `${started.toISOString()}\n`);
  utimesSync(join(out, CONSOLE_STAMP), started, started);
  process.stderr.write(`built the console in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s\n`);
}

if (!isCurrent() || !isConsoleCurrent()) {
  const release = await lockBuild();
  try {
    // Another build may have finished while this one waited for the lock.
    if (!isConsoleCurrent()) buildConsole();
    if (!isCurrent()) compile();
  } finally {
    release();
  }
}
