import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../modeling/progress.ts';

export interface ProgressReporter {
  update(event: ProgressEvent): void;
  stop(): void;
}

/** `[2/6] loading products and daily NAV`, or with a count `[1/6] generating customers: 20,000 customers`. */
export function progressLine(event: ProgressEvent): string {
  const count = event.total === undefined ? '' : `: ${event.total.toLocaleString('en')} ${event.unit ?? 'items'}`;
  return `[${event.step}/${event.steps}] ${event.stage}${count}`;
}

/**
 * A progress bar on a terminal; elsewhere (CI logs, pipes) one line per step as it starts,
 * saying which step of how many and what it counts: `[3/6] simulating 12 months of activity:
 * 20,000 customers`.
 */
export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY) {
    let lastStep = '';
    return {
      update(event) {
        const step = `${event.step}/${event.steps}`;
        if (step === lastStep) return;
        lastStep = step;
        stream.write(`${progressLine(event)}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: '[{step}] {stage} [{bar}] {percentage}%{count}', stream, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let currentStep = '';
  return {
    update(event) {
      const step = `${event.step}/${event.steps}`;
      // A step without a count fills the bar when the next one starts.
      const [done, total] = event.total === undefined ? [0, 1] : [event.done ?? 0, event.total];
      const payload = {
        step,
        stage: event.stage,
        count: event.total === undefined ? '' : ` | ${done.toLocaleString('en')}/${total.toLocaleString('en')} ${event.unit ?? 'items'}`,
      };
      if (!started) {
        bar.start(total, done, payload);
        started = true;
      } else if (step !== currentStep) {
        bar.setTotal(total);
      }
      currentStep = step;
      bar.update(done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
