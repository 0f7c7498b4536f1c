import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The lock file's name inside a PGlite data folder (PGlite ignores files it does not know). */
export const LOCK_FILE = 'strata.lock';

/** Who holds a data folder: what the lock file says. */
export interface DataFolderOwner {
  readonly pid: number;
  /** The CLI command holding it (`start`, `serve`, `seed`, ...). */
  readonly command: string;
  readonly startedAt: string;
  /** Set once a server listens: its port and the local credential the CLI uses to call it. */
  readonly port?: number;
  readonly localToken?: string;
}

export interface DataFolderLock {
  /** The lock file's path. */
  readonly path: string;
  /** Records that this process now serves on `port`, reachable with `localToken` from this machine. */
  serving(port: number, localToken: string): void;
  /** Removes the lock file if this process still holds it (also done when the process exits). */
  release(): void;
}

/** A data folder another live process holds. */
export class DataFolderBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: DataFolderOwner,
  ) {
    super(`${dataDir} is in use by ${describeOwner(owner)}`);
  }
}

/** `the Strata server (pid 4242, port 4000)` or `\`strata seed\` (pid 4242)`. */
export function describeOwner(owner: DataFolderOwner): string {
  const server = owner.command === 'start' || owner.command === 'serve';
  if (!server) return `\`strata ${owner.command}\` (pid ${owner.pid})`;
  return `the Strata server (pid ${owner.pid}, ${owner.port === undefined ? 'starting' : `port ${owner.port}`})`;
}

/** Lock files this process wrote: another file naming our pid is a leftover of an earlier process. */
const held = new Set<string>();

/**
 * The live holder of a PGlite data folder, or null when nobody holds it. A lock whose process
 * is gone (killed, crashed) is stale and counts as nobody.
 */
export function dataFolderOwner(dataDir: string): DataFolderOwner | null {
  const path = lockPath(dataDir);
  const owner = readOwner(path);
  if (!owner) return null;
  if (owner.pid === process.pid) return held.has(path) ? owner : null;
  return isAlive(owner.pid) ? owner : null;
}

/**
 * Makes this process the single writer of a PGlite data folder for as long as it runs: one
 * lock file, `<dataDir>/strata.lock`, created atomically (written aside, then hard-linked
 * into place, which fails when it exists) with this process's pid and command. A lock left by
 * a process that is gone is replaced. Throws DataFolderBusyError when a live process holds it.
 * The lock is removed on `release()` or when the process exits.
 *
 * ```ts
 * const lock = lockDataFolder('.strata-data', 'seed');
 * try { ... } finally { lock.release(); }
 * ```
 */
export function lockDataFolder(dataDir: string, command: string): DataFolderLock {
  const path = lockPath(dataDir);
  mkdirSync(resolve(dataDir), { recursive: true });
  let owner: DataFolderOwner = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt += 1) {
    if (create(path, owner)) break;
    const current = dataFolderOwner(dataDir);
    if (current || attempt > 0) throw new DataFolderBusyError(dataDir, current ?? readOwner(path) ?? owner);
    removeQuietly(path);
  }
  held.add(path);
  const release = () => {
    if (!held.delete(path)) return;
    if (readOwner(path)?.pid === process.pid) removeQuietly(path);
  };
  process.once('exit', release);
  return {
    path,
    serving(port, localToken) {
      owner = { ...owner, port, localToken };
      const aside = `${path}.${process.pid}`;
      writeFileSync(aside, JSON.stringify(owner), { mode: 0o600 });
      renameSync(aside, path);
    },
    release() {
      process.off('exit', release);
      release();
    },
  };
}

function lockPath(dataDir: string): string {
  return join(resolve(dataDir), LOCK_FILE);
}

/** Creates the lock file with `owner` unless it exists; false when it does. */
function create(path: string, owner: DataFolderOwner): boolean {
  const aside = `${path}.${process.pid}`;
  writeFileSync(aside, JSON.stringify(owner), { mode: 0o600 });
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    removeQuietly(aside);
  }
}

function readOwner(path: string): DataFolderOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<DataFolderOwner>;
    return Number.isSafeInteger(owner.pid) && typeof owner.command === 'string' ? (owner as DataFolderOwner) : null;
  } catch {
    return null;
  }
}

/** Whether a process runs with this pid (EPERM: it does, under another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
