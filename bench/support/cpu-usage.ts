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

/** CPU seconds used so far by the PostgreSQL backends connected to `database` (their command line names it). */
export function postgresCpuSeconds(database: string): number {
  const pattern = new RegExp(`^postgres: .* ${database} `);
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (pattern.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '))) total += processCpuSeconds(Number(pid));
    } catch {
      // the process ended while we looked
    }
  }
  return total;
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
