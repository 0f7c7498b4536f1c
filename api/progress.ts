import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(done: number, total: number, stage: string): void;
  stop(): void;
}

/** A progress bar on a terminal; one line per stage elsewhere (CI logs, pipes). */
export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY) {
    let lastStage = '';
    return {
      update(_done, total, stage) {
        if (stage === lastStage) return;
        lastStage = stage;
        stream.write(`${stage} (${total})\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: '{stage} [{bar}] {percentage}% | {value}/{total} | ETA {eta}s', stream, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let currentStage = '';
  return {
    update(done, total, stage) {
      if (!started) {
        bar.start(total, done, { stage });
        started = true;
      }
      if (stage !== currentStage) {
        currentStage = stage;
        bar.setTotal(total);
      }
      bar.update(done, { stage });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
