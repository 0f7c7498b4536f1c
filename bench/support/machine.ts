import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

/** `Intel(R) Xeon(R) ..., 2 cores, 23,540 MB RAM, Node v20.19.0`: the machine a bench ran on. */
export function describeMachine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${mb(totalmem()).toLocaleString('en')} MB RAM, Node ${process.version}`;
}

/** The 1-, 5- and 15-minute load averages as /proc/loadavg reports them. */
export function loadAverage(): [number, number, number] {
  const [one = 0, five = 0, fifteen = 0] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [one, five, fifteen];
}

/**
 * Waits (checking every minute, up to `maxMinutes`) until the 1-minute load average is at or
 * under `threshold`, so a measurement does not race other work on a shared machine. Returns
 * the load at the moment measuring starts; never throws: past the wait it measures anyway.
 * `BENCH_MAX_LOAD` and `BENCH_LOAD_WAIT_MINUTES` override the defaults (1.5 and 30).
 */
export async function waitForQuietMachine(
  threshold = Number(process.env.BENCH_MAX_LOAD ?? 1.5),
  maxMinutes = Number(process.env.BENCH_LOAD_WAIT_MINUTES ?? 30),
): Promise<[number, number, number]> {
  const deadline = Date.now() + maxMinutes * 60_000;
  let load = loadAverage();
  while (load[0] > threshold && Date.now() < deadline) {
    process.stderr.write(`load ${load.join(' ')} above ${threshold}: waiting 60 s\n`);
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    load = loadAverage();
  }
  if (load[0] > threshold) process.stderr.write(`load still ${load.join(' ')} after ${maxMinutes} min: measuring anyway\n`);
  return load;
}

/** Peak resident set size of this process, in MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Resident set size now (VmRSS) of another process, in MB; undefined once it has exited. */
export function processRssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set size (VmHWM) of another process, in MB; undefined once it has exited. */
export function processPeakRssMb(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export function mb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}
