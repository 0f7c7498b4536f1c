import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFolderBusyError, dataFolderOwner, lockDataFolder } from './data-folder-lock.ts';

/** The pid of a process that has exited (so no process runs with it, barring reuse). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('data folder lock', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'strata-lock-')), 'data');
  });
  afterEach(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

  it('makes one process the holder: a second claim is refused naming it, and release frees the folder', () => {
    const lock = lockDataFolder(dataDir, 'seed');
    expect(dataFolderOwner(dataDir)).toMatchObject({ pid: process.pid, command: 'seed' });
    expect(() => lockDataFolder(dataDir, 'migrate')).toThrow(DataFolderBusyError);
    expect(() => lockDataFolder(dataDir, 'migrate')).toThrow(`is in use by \`strata seed\` (pid ${process.pid})`);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    expect(dataFolderOwner(dataDir)).toBeNull();
    lockDataFolder(dataDir, 'migrate').release();
  });

  it('records the port and local credential of a server, readable only by its user', () => {
    const lock = lockDataFolder(dataDir, 'start');
    expect(() => lockDataFolder(dataDir, 'keys create')).toThrow('the Strata server (pid');
    expect(() => lockDataFolder(dataDir, 'keys create')).toThrow('starting)');
    lock.serving(4321, 'strata_local_secret');
    expect(dataFolderOwner(dataDir)).toMatchObject({ pid: process.pid, command: 'start', port: 4321, localToken: 'strata_local_secret' });
    expect(statSync(lock.path).mode & 0o777).toBe(0o600);
    expect(() => lockDataFolder(dataDir, 'seed')).toThrow('port 4321)');
    lock.release();
  });

  it('replaces a lock left by a process that is gone', () => {
    const pid = deadPid();
    lockDataFolder(dataDir, 'probe').release();
    writeFileSync(join(dataDir, 'strata.lock'), JSON.stringify({ pid, command: 'start', startedAt: '2026-01-01T00:00:00Z', port: 4000 }));
    expect(dataFolderOwner(dataDir)).toBeNull();
    const lock = lockDataFolder(dataDir, 'seed');
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({ pid: process.pid, command: 'seed' });
    lock.release();
  });

  it('treats a lock naming this process that it did not write as stale (a restarted container reuses pids)', () => {
    lockDataFolder(dataDir, 'probe').release();
    writeFileSync(join(dataDir, 'strata.lock'), JSON.stringify({ pid: process.pid, command: 'start', startedAt: '2026-01-01T00:00:00Z' }));
    expect(dataFolderOwner(dataDir)).toBeNull();
    lockDataFolder(dataDir, 'seed').release();
  });

  it('does not remove a lock another process took after this one released', () => {
    const lock = lockDataFolder(dataDir, 'seed');
    writeFileSync(lock.path, JSON.stringify({ pid: process.ppid, command: 'start', startedAt: '2026-01-01T00:00:00Z' }));
    lock.release();
    expect(dataFolderOwner(dataDir)).toMatchObject({ pid: process.ppid, command: 'start' });
  });
});
