import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { stopChild } from './strata-server.ts';
import { processPeakRssMb } from './machine.ts';

/** Outside the repository: PostGraphile is a comparison point of the bench, not a dependency of Strata. */
const FOLDER = process.env.STRATA_BENCH_POSTGRAPHILE_DIR ?? '/tmp/strata-postgraphile';
const BIN = `${FOLDER}/node_modules/postgraphile/cli.js`;

/** Installs PostGraphile 4 into the scratch folder unless it is there; returns its version. */
export function ensurePostgraphile(): string {
  if (!existsSync(BIN)) {
    mkdirSync(FOLDER, { recursive: true });
    if (!existsSync(`${FOLDER}/package.json`)) writeFileSync(`${FOLDER}/package.json`, '{"name":"strata-postgraphile-bench","private":true}\n');
    process.stderr.write(`installing postgraphile@4 into ${FOLDER}\n`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', FOLDER, 'postgraphile@4'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return execFileSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' }).trim();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface PostgraphileServer {
  readonly url: string;
  readonly pid: number;
  peakRssMb(): number | undefined;
  stop(): Promise<void>;
}

/** Serves the tables of `schema` read-only (no default mutations, JSON as JSON) with PostGraphile's CLI, in a child process. */
export async function startPostgraphile(databaseUrl: string, schema: string): Promise<PostgraphileServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      BIN,
      '-c',
      databaseUrl,
      '--schema',
      schema,
      '--disable-default-mutations',
      '--dynamic-json',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--disable-query-log',
    ],
    {
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgraphile exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`postgraphile did not answer within 60 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const pid = child.pid!;
  return { url, pid, peakRssMb: () => processPeakRssMb(pid), stop: () => stopChild(child) };
}
