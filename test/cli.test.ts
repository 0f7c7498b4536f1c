import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForOutput } from './support/child-process.ts';

/**
 * The compiled command line (dist/, built by scripts/build.mjs as `npm start` does) on an
 * embedded PGlite folder: the single writer, `reset`, and configuration errors. Each
 * command is its own process, as a user runs it.
 */
const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(REPO, 'dist/api/cli.js');

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `strata <args>` to its end, with `input` on stdin. */
function strata(args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<Outcome> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function environment(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'warn', STRATA_SQL_PORT: '0' };
  delete env.DATABASE_URL;
  return env;
}

/** `strata serve` on a free port; resolves once it listens (the lock then names its port). */
async function serve(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const [, port] = await waitForOutput(child.stdout, /localhost:(\d+)\/graphql/);
  return { child, port: Number(port), exited };
}

async function viewer(port: number, token: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ viewer { name role } }' }),
  });
  const body = (await response.json()) as { data?: { viewer: unknown } | null; errors?: { extensions: { code: string } }[] };
  return body.data?.viewer ?? body.errors?.[0]?.extensions.code;
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO, stdio: 'ignore' });
});

describe('the compiled CLI while a server owns the PGlite folder', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'strata-cli-')), 'data');
  const env = environment(dataDir);
  let server: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    const seeded = await strata(['seed', '--customers', '200'], env);
    expect(seeded).toMatchObject({ code: 0 });
    // Progress off a terminal: which step of how many, and what it counts.
    expect(seeded.stderr).toContain('[1/6] generating customers: 200 customers\n[2/6] loading products and daily NAV\n');
    server = await serve(env);
  });
  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('creates a key through the server, which accepts it at once, and revokes it there at once', async () => {
    const created = await strata(['keys', 'create', '--role', 'analyst', '--name', 'while-served'], env);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toContain(`created key 'while-served' through the server on port ${server.port} with role analyst`);
    const token = lastLine(created.stdout);
    expect(await viewer(server.port, token)).toEqual({ name: 'while-served', role: 'analyst' });

    const revoked = await strata(['keys', 'revoke', 'while-served'], env);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked key 'while-served' through the server on port ${server.port}\n` });
    expect(await viewer(server.port, token)).toBe('UNAUTHENTICATED');

    const again = await strata(['keys', 'create', '--role', 'analyst', '--name', 'while-served'], env);
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toMatch(/^strata: a key named 'while-served' exists[^\n]*\n$/);
  });

  it('materializes through the server', async () => {
    const run = await strata(['materialize'], env);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toContain(`materializing through the server on port ${server.port}`);
    expect(run.stdout).toMatch(/materialized and published \d+ tags for 200 customers as of \d{4}-\d{2}-\d{2}/);
  });

  it('refuses every other command that opens the folder in one line, and changes nothing', async () => {
    const pid = server.child.pid;
    for (const command of [
      ['seed'],
      ['migrate', '--down'],
      ['tags', 'export', '--out', join(dataDir, '..', 'tags.json')],
      ['reset', '--yes'],
      ['serve', '--port', '0'],
    ]) {
      const name = command.filter((word) => /^[a-z]+$/.test(word)).join(' ');
      const refused = await strata(command, env);
      expect(refused, command.join(' ')).toEqual({
        code: 1,
        stdout: '',
        stderr: `strata: ${dataDir} is in use by the Strata server (pid ${pid}, port ${server.port}): stop it before \`${name}\` (Ctrl-C in its terminal, or kill ${pid})\n`,
      });
    }
    const forced = await strata(['materialize', '--force'], env);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/^strata: --force is refused while the server \(pid \d+, port \d+\) owns the data[^\n]*\n$/);
    // Still migrated (migrate --down did not run), still there (reset did not run), still served.
    expect((await fetch(`http://127.0.0.1:${server.port}/ready`)).status).toBe(200);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(dataDir, '..', 'tags.json'))).toBe(false);
  });

  it('removes the lock when the server stops, and the CLI then opens the folder itself', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(existsSync(join(dataDir, 'strata.lock'))).toBe(false);
    const created = await strata(['keys', 'create', '--role', 'app', '--name', 'after-stop'], env);
    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).toContain("created key 'after-stop' with role app");
  });

  it('takes over the lock of a server that was killed', async () => {
    const killed = await serve(env);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(JSON.parse(readFileSync(join(dataDir, 'strata.lock'), 'utf8'))).toMatchObject({ pid: killed.child.pid, port: killed.port });
    const migrated = await strata(['migrate'], env);
    expect(migrated).toMatchObject({ code: 0, stdout: 'migrations are current\n' });
    expect(existsSync(join(dataDir, 'strata.lock'))).toBe(false);
  });

  it('makes the reset that the seed error suggests true: cancelled unless confirmed, then a fresh seed works', async () => {
    const twice = await strata(['seed', '--customers', '50'], env);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^strata: wealth\.customers already has rows: .*`npm run strata -- reset` deletes the data folder.*\n$/);

    const declined = await strata(['reset'], env, 'no\n');
    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain(`Delete ${dataDir} and everything in it`);
    expect(declined.stderr).toBe('strata: reset cancelled: nothing was deleted\n');
    const noAnswer = await strata(['reset'], env, '');
    expect(noAnswer.code).toBe(1);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);

    const confirmed = await strata(['reset'], env, 'yes\n');
    expect(confirmed).toMatchObject({ code: 0 });
    expect(confirmed.stdout).toContain(`deleted ${dataDir}`);
    expect(existsSync(dataDir)).toBe(false);
    expect(await strata(['reset', '--yes'], env)).toMatchObject({ code: 0, stdout: `nothing to reset: there is no data folder at ${dataDir}\n` });
    expect(await strata(['seed', '--customers', '50'], env)).toMatchObject({ code: 0 });
    expect(await strata(['reset', '--yes'], env)).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('strata reset refuses what is not its own', () => {
  it('refuses with DATABASE_URL set, and in-memory PGlite has nothing to delete', async () => {
    const env = { ...environment('memory://'), DATABASE_URL: 'postgres://strata@127.0.0.1:1/strata' };
    const refused = await strata(['reset', '--yes'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^strata: reset deletes only the embedded PGlite data folder, and DATABASE_URL is set[^\n]*\n$/);
    expect(await strata(['reset', '--yes'], environment('memory://'))).toMatchObject({ code: 0, stdout: expect.stringMatching(/^nothing to reset/) });
  });

  it('does not delete a folder that is not a PGlite data folder', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'strata-not-pglite-'));
    try {
      writeFileSync(join(folder, 'thesis.txt'), 'years of work');
      const refused = await strata(['reset', '--yes'], environment(folder));
      expect(refused).toEqual({
        code: 1,
        stdout: '',
        stderr: `strata: ${folder} does not look like a PGlite data folder (no PG_VERSION): not deleting it; check STRATA_DATA_DIR\n`,
      });
      expect(readFileSync(join(folder, 'thesis.txt'), 'utf8')).toBe('years of work');
      expect(existsSync(join(folder, 'strata.lock'))).toBe(false);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('the build', () => {
  /** Every compiled file under dist/. */
  const compiledFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? compiledFiles(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : [],
    );

  it('leaves no path to a TypeScript file in the compiled code (a worker or file loaded by path would be missing)', () => {
    const files = compiledFiles(join(REPO, 'dist'));
    expect(files).toContain(join(REPO, 'dist/store/pglite-worker.js'));
    const offending = files.filter((file) => /(?:new URL|import)\(\s*['"`][^'"`]*\.ts['"`]/.test(readFileSync(file, 'utf8')));
    expect(offending).toEqual([]);
  });

  it('does nothing when no source changed', () => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO, encoding: 'utf8' });
    expect(build).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });
});

describe('configuration errors', () => {
  it('answers a bad LOG_LEVEL with one line and no stack trace', async () => {
    const outcome = await strata(['migrate'], { ...environment('memory://'), LOG_LEVEL: 'verbose' });
    expect(outcome).toEqual({
      code: 1,
      stdout: '',
      stderr: 'strata: invalid configuration: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent\n',
    });
  });

  it('lists every command in --help, reset included', async () => {
    const help = await strata(['--help'], environment('memory://'));
    expect(help.code).toBe(0);
    for (const command of ['migrate', 'seed', 'serve', 'start', 'reset', 'materialize', 'keys', 'tags', 'dbt', 'print-schema']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });
});

describe('strata dbt', () => {
  const out = mkdtempSync(join(tmpdir(), 'strata-cli-dbt-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('exports the bundled domain, and dbt check reads the export back with nothing refused', async () => {
    const exported = await strata(['dbt', 'export', '--out', out], environment('memory://'));
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    expect(exported.stdout).toMatch(/^wrote 11 files to .*: 6 semantic models, 17 metrics, 0 saved queries\nMetricFlow cannot express \d+ things/);
    const checked = await strata(['dbt', 'check', out, '--schema', 'wealth'], environment('memory://'));
    expect(checked).toMatchObject({ code: 0, stderr: '' });
    expect(checked.stdout).toContain("(dbt project 'strata_wealth'): 6 semantic models, 17 metrics");
    expect(lastLine(checked.stdout)).toBe('refused nothing');
  });

  it('checks a compiled semantic_manifest.json, and answers a missing path in one line', async () => {
    const manifest = await strata(['dbt', 'check', 'test/fixtures/bakery/target/semantic_manifest.json', '--schema', 'bakery'], environment('memory://'));
    expect(manifest).toMatchObject({ code: 0, stderr: '' });
    expect(manifest.stdout).toContain('(compiled semantic manifest): 2 semantic models, 8 metrics');
    const missing = await strata(['dbt', 'check', join(out, 'nowhere')], environment('memory://'));
    expect(missing).toEqual({
      code: 1,
      stdout: `${join(out, 'nowhere')}: no such folder or file; give a dbt project folder or its target/semantic_manifest.json\n`,
      stderr: '',
    });
  });
});
