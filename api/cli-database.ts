import { spawn } from 'node:child_process';
import { databaseOptions, loadConfig, type ServerConfig } from './config.ts';
import type { Database } from '../store/database.ts';
import { setLogLevel } from '../store/logger.ts';
import { DataFolderBusyError, describeOwner, lockDataFolder, type DataFolderLock } from '../store/data-folder-lock.ts';

/** The validated configuration of a command, with its log level applied; `port` overrides PORT. */
export function cliConfig(port?: number): ServerConfig {
  const config = loadConfig();
  setLogLevel(config.logLevel);
  return port === undefined ? config : { ...config, port };
}

/** The embedded PGlite data folder the configuration names; undefined for PostgreSQL or in-memory PGlite. */
export function pgliteFolder(config: ServerConfig): string | undefined {
  return config.databaseUrl || config.dataDir.startsWith('memory://') ? undefined : config.dataDir;
}

/**
 * Makes this process the single writer of the PGlite data folder for `command`, or refuses
 * in one line naming who holds it. Nothing to lock on PostgreSQL (many processes may share
 * it) or in memory.
 */
export function claimDataFolder(config: ServerConfig, command: string): DataFolderLock | undefined {
  const folder = pgliteFolder(config);
  if (!folder) return undefined;
  try {
    return lockDataFolder(folder, command);
  } catch (error) {
    if (error instanceof DataFolderBusyError) throw new Error(busyMessage(error, command));
    throw error;
  }
}

/** `.strata-data is in use by the Strata server (pid 4242, port 4000): stop it before `seed` (...)`. */
export function busyMessage(error: DataFolderBusyError, command: string): string {
  const { owner } = error;
  const server = owner.command === 'start' || owner.command === 'serve';
  const advice = server ? `stop it before \`${command}\` (Ctrl-C in its terminal, or kill ${owner.pid})` : `retry \`${command}\` when it has finished`;
  return `${error.dataDir} is in use by ${describeOwner(owner)}: ${advice}`;
}

const BASELINE_WASM = '--liftoff-only';

/**
 * For a command that opens an embedded PGlite folder for a few statements (a key, a tag
 * export): runs this same command line again in a child Node with V8's baseline WebAssembly
 * compiler only, and resolves true when the child has done the work (its exit code becomes
 * ours). Optimizing PostgreSQL's whole WebAssembly module costs far more CPU and memory than
 * the few statements it serves (README, Benchmarks: about half the wall time and RSS); V8
 * reads the flag only at start-up, hence a child. Resolves false when there is nothing to
 * gain (PostgreSQL, in memory) or this process already runs that way.
 */
export async function ranOnBaselineWasm(config: ServerConfig): Promise<boolean> {
  if (!pgliteFolder(config) || process.execArgv.includes(BASELINE_WASM)) return false;
  const child = spawn(process.execPath, [...process.execArgv, BASELINE_WASM, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
  return true;
}

/** Runs `work` on the configured database, holding the PGlite folder for `command` meanwhile. */
export async function withDatabase<T>(config: ServerConfig, command: string, work: (database: Database) => Promise<T>): Promise<T> {
  const lock = claimDataFolder(config, command);
  try {
    // Loaded here: commands sent to a running server never load the database drivers.
    const { openDatabase } = await import('../store/database.ts');
    const database = await openDatabase(databaseOptions(config));
    try {
      return await work(database);
    } finally {
      await database.close();
    }
  } finally {
    lock?.release();
  }
}
