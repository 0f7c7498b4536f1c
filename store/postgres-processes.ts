import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * What Linux's /proc tells about the PostgreSQL processes of a database on this machine:
 * which program a pid runs, its parent, the parallel workers of a backend, and the nice value
 * of its scheduler autogroup. Elsewhere (no /proc) the answers are the neutral ones each
 * function states.
 */

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): state, ppid, pgrp, session, ... */
function statFields(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
}

const procMounted = () => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
};

/**
 * Whether `pid` runs the PostgreSQL executable: a database in a container answers with pids
 * of its own namespace, which here may be any other program. Without /proc, assumed.
 */
export function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT' || !procMounted();
  }
}

/** The parent of a process (a backend's: the postmaster); undefined without /proc or once it has gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const ppid = Number(statFields(pid)[1]);
    return Number.isSafeInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * With Linux's autogroup scheduling (`kernel.sched_autogroup_enabled`, on in most desktop and
 * many server kernels), the CPU is shared between sessions first, and a nice value only
 * weighs within its own session. Every PostgreSQL backend and parallel worker leads a session
 * of its own (it calls setsid), so a backend's nice value alone changes nothing: its
 * session's is what competes with the profile backends and the server. Sets the session's
 * nice value (never raising it) only for a process that leads its session, so no other
 * process shares the change; a no-op where the kernel does not group by session.
 */
export function lowerAutogroupPriority(pid: number, nice: number): void {
  let enabled: string;
  try {
    enabled = readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim();
  } catch {
    return;
  }
  if (enabled !== '1') return;
  if (Number(statFields(pid)[3]) !== pid) return;
  const current = Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1] ?? 0);
  if (current < nice) writeFileSync(`/proc/${pid}/autogroup`, String(nice));
}

/**
 * Finds the parallel workers PostgreSQL has started for some leader backends: the postmaster
 * starts workers per parallel query (so they run at its priority, not their leader's), as
 * children whose process title reads `parallel worker for PID <leader>`. Each process is read
 * once its title is set; a pid that ends is forgotten (it may come back). Without /proc (or
 * the kernel's `children` files) it finds none.
 *
 * ```ts
 * const find = parallelWorkerFinder();
 * const workers = await find(new Map([[leaderPid, postmasterPid]]));
 * ```
 */
export function parallelWorkerFinder(): (leaders: ReadonlyMap<number, number>) => Promise<number[]> {
  const known = new Map<number, Set<number>>();
  return async (leaders) => {
    const found: number[] = [];
    for (const postmaster of new Set(leaders.values())) {
      const children = await readFile(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').then(
        (text) => new Set(text.trim().split(' ').filter(Boolean).map(Number)),
        () => new Set<number>(),
      );
      const seen = known.get(postmaster) ?? new Set<number>();
      known.set(postmaster, seen);
      for (const pid of seen) if (!children.has(pid)) seen.delete(pid);
      for (const pid of children) {
        if (seen.has(pid)) continue;
        const title = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        // Until a new process sets its title its command line is the postmaster's: read it again next time.
        if (!title.startsWith('postgres: ')) continue;
        seen.add(pid);
        const leader = Number(/parallel worker for PID (\d+)/.exec(title)?.[1]);
        if (leaders.has(leader)) found.push(pid);
      }
    }
    return found;
  };
}
