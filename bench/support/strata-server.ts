import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processPeakRssMb, processRssMb } from './machine.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StrataServer {
  readonly url: string;
  /** Port of its SQL endpoint (PostgreSQL protocol). */
  readonly sqlPort: number;
  readonly pid: number;
  /** Peak RSS (VmHWM) of the server process so far, in MB. */
  peakRssMb(): number | undefined;
  /** RSS (VmRSS) of the server process now, in MB. */
  rssMb(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts `strata serve` in a child process on a free port and resolves once `GET /ready`
 * answers 200. It runs the compiled server, as `npm run serve` does (built first when a
 * source changed); the child is node itself, so its pid is the server's and its RSS is the
 * server's own.
 */
export async function startStrataServer(env: Record<string, string>, timeoutMs = 60_000): Promise<StrataServer> {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`the build failed (exit ${build.status})`);
  const child = spawn(process.execPath, ['dist/api/cli.js', 'serve'], {
    cwd: ROOT,
    // No rollup refresh worker: a bench server must not build rollups behind the figures (bench/rollups.ts refreshes its own).
    env: { ...process.env, PORT: '0', STRATA_SQL_PORT: '0', LOG_LEVEL: 'warn', STRATA_ROLLUP_REFRESH_SECONDS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const [url, sqlPort] = await new Promise<[string, number]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`strata serve did not start in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const http = /http:\/\/localhost:(\d+)\/graphql/.exec(stdout);
      const sql = /postgresql:\/\/localhost:(\d+)\//.exec(stdout);
      if (http && (sql || env.STRATA_SQL_PORT === 'off')) {
        clearTimeout(timer);
        resolve([`http://127.0.0.1:${http[1]}`, Number(sql?.[1] ?? 0)]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`strata serve exited with ${code}: ${stderr}`));
    });
  });
  await waitForReady(url, child, timeoutMs);
  const pid = child.pid!;
  return {
    url,
    sqlPort,
    pid,
    peakRssMb: () => processPeakRssMb(pid),
    rssMb: () => processRssMb(pid),
    stop: () => stopChild(child),
  };
}

async function waitForReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`strata serve exited with ${child.exitCode}`);
    const status = await fetch(`${url}/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url}/ready did not answer 200 within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
