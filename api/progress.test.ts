import { describe, expect, it } from 'vitest';
import { createProgressReporter, progressLine } from './progress.ts';

/** A stream that is not a terminal (a CI log, a pipe), keeping what is written. */
function pipe() {
  const written: string[] = [];
  const stream = { isTTY: false, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('progress lines', () => {
  it('say which step of how many, and what a counted step counts', () => {
    expect(progressLine({ step: 3, steps: 4, stage: 'recording coverage and drift' })).toBe('[3/4] recording coverage and drift');
    expect(progressLine({ step: 1, steps: 6, stage: 'generating customers', done: 0, total: 20_000, unit: 'customers' })).toBe(
      '[1/6] generating customers: 20,000 customers',
    );
  });

  it('print one line per step off a terminal, however often the count advances', () => {
    const { stream, written } = pipe();
    const progress = createProgressReporter(stream);
    for (const done of [0, 500, 1000]) progress.update({ step: 1, steps: 2, stage: 'generating customers', done, total: 1000, unit: 'customers' });
    progress.update({ step: 2, steps: 2, stage: 'analyzing tables' });
    progress.stop();
    expect(written).toEqual(['[1/2] generating customers: 1,000 customers\n', '[2/2] analyzing tables\n']);
  });
});
