import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far; 0 once it has gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The PostgreSQL backends connected to `database` now (their command line names it). */
export function postgresBackendPids(database: string): number[] {
  const pattern = new RegExp(`^postgres: .* ${database} `);
  const pids: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (pattern.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '))) pids.push(Number(pid));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** CPU seconds used so far by the PostgreSQL backends connected to `database`. */
export function postgresCpuSeconds(database: string): number {
  return postgresBackendPids(database).reduce((total, pid) => total + processCpuSeconds(pid), 0);
}

/**
 * Seconds a process's main thread has run on a CPU and waited, runnable, for one (the run
 * queue; /proc/<pid>/schedstat); zeros once it has gone. The wait is what CPU contention adds
 * to a request's latency.
 */
export function processSchedSeconds(pid: number): { run: number; wait: number } {
  try {
    const [run = 0, wait = 0] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { run: run / 1e9, wait: wait / 1e9 };
  } catch {
    return { run: 0, wait: 0 };
  }
}

/**
 * Starts summing run and run-queue wait seconds over the given processes (those that end
 * meanwhile count up to when they were last seen alive: not at all).
 */
export function startSchedCount(pids: readonly number[]): () => { run: number; wait: number } {
  const before = pids.map(processSchedSeconds);
  return () =>
    pids.reduce(
      (sum, pid, i) => {
        const now = processSchedSeconds(pid);
        if (now.run === 0) return sum;
        return { run: sum.run + now.run - before[i]!.run, wait: sum.wait + now.wait - before[i]!.wait };
      },
      { run: 0, wait: 0 },
    );
}

/** CPU seconds the whole machine has been busy (every core, every process). */
export function machineBusySeconds(): number {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - ticks[3]! - ticks[4]!) / 100;
}

export interface CpuSplit {
  server: number;
  postgres: number;
  loader: number;
  machine: number;
}

/** Starts counting CPU seconds of a server process, a database's backends, this process and the machine. */
export function startCpuCount(serverPid: number, database: string): () => CpuSplit {
  const before = { server: processCpuSeconds(serverPid), postgres: postgresCpuSeconds(database), loader: process.cpuUsage(), machine: machineBusySeconds() };
  return () => {
    const loader = process.cpuUsage(before.loader);
    return {
      server: processCpuSeconds(serverPid) - before.server,
      postgres: postgresCpuSeconds(database) - before.postgres,
      loader: (loader.user + loader.system) / 1e6,
      machine: machineBusySeconds() - before.machine,
    };
  };
}
