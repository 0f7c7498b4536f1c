import { describe, expect, it } from 'vitest';
import { coalesceEvents } from './coalesced-events.ts';
import type { EventCollector, TrackResult } from './event-collector.ts';

interface Ev {
  readonly eventId: string;
  readonly bad?: boolean;
}

/** A collector whose writes finish when the test says so; it rejects events marked bad. */
function heldCollector(maxBatchSize = 1000) {
  const calls: Ev[][] = [];
  const finish: ((error?: Error) => void)[] = [];
  const collector: EventCollector = {
    maxBatchSize,
    trackBuilt: (input) => collector.track(input),
    track(input) {
      const events = input as Ev[];
      calls.push(events);
      return new Promise<TrackResult>((resolve, reject) => {
        finish.push((error) => {
          if (error) return reject(error);
          const rejected = events.flatMap((e, index) => (e.bad ? [{ index, code: 'INVALID_PROPERTY' as const, message: `bad ${e.eventId}` }] : []));
          resolve({ accepted: events.length - rejected.length, duplicates: 0, quarantined: 0, rejected });
        });
      });
    },
  };
  const release = async (error?: Error) => {
    (finish.shift() as (error?: Error) => void)(error);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { collector, calls, release };
}

const ev = (eventId: string, bad = false): Ev => ({ eventId, ...(bad ? { bad } : {}) });

/** Resolves once the current turn of the event loop has ended (after its `setImmediate` callbacks). */
const turnEnd = () => new Promise((resolve) => setImmediate(resolve));

describe('coalesceEvents', () => {
  it('writes the callers of one turn together at its end, and queues those arriving meanwhile into one next statement', async () => {
    const { collector, calls, release } = heldCollector();
    const events = coalesceEvents(collector);
    const settled: string[] = [];
    const together = [events.track([ev('t1')]), events.track([ev('t2')])];
    // Nothing is written before the turn ends; then one statement carries both callers.
    expect(calls).toEqual([]);
    await turnEnd();
    expect(calls.map((c) => c.map((e) => e.eventId))).toEqual([['t1', 't2']]);
    await release();
    expect(await Promise.all(together)).toEqual([[], []]);
    calls.length = 0;
    const first = events.track([ev('a')]).then(() => settled.push('a'));
    await turnEnd();
    const second = events.track([ev('b1'), ev('b2')]).then(() => settled.push('b'));
    const third = events.track([ev('c')]).then(() => settled.push('c'));
    await turnEnd();
    expect(calls.map((c) => c.map((e) => e.eventId))).toEqual([['a']]);
    await release();
    await first;
    // Nobody else resolved before their own statement committed.
    expect(settled).toEqual(['a']);
    expect(calls.map((c) => c.map((e) => e.eventId))).toEqual([['a'], ['b1', 'b2', 'c']]);
    await release();
    await Promise.all([second, third]);
    expect(settled).toEqual(['a', 'b', 'c']);
  });

  it("gives each caller its own rejections, indexed in its own events, and the others' events are kept", async () => {
    const { collector, release } = heldCollector();
    const events = coalesceEvents(collector);
    const blocker = events.track([ev('x')]);
    await turnEnd();
    const ok = events.track([ev('o1'), ev('o2')]);
    const partly = events.track([ev('p1'), ev('p2', true)]);
    await release();
    await blocker;
    await release();
    expect(await ok).toEqual([]);
    expect(await partly).toEqual([{ index: 1, code: 'INVALID_PROPERTY', message: 'bad p2' }]);
  });

  it('fails every caller of a statement that fails, and goes on with the next batch', async () => {
    const { collector, release } = heldCollector();
    const events = coalesceEvents(collector);
    const blocker = events.track([ev('x')]);
    await turnEnd();
    const one = events.track([ev('1')]);
    const two = events.track([ev('2')]);
    await release();
    await blocker;
    const failures = [expect(one).rejects.toThrow('connection lost'), expect(two).rejects.toThrow('connection lost')];
    await release(new Error('connection lost'));
    await Promise.all(failures);
    const after = events.track([ev('3')]);
    await turnEnd();
    await release();
    expect(await after).toEqual([]);
  });

  it("keeps a statement within the collector's batch size without splitting a caller's events", async () => {
    const { collector, calls, release } = heldCollector(3);
    const events = coalesceEvents(collector);
    const waiting = [events.track([ev('a')]), events.track([ev('b1'), ev('b2')]), events.track([ev('c1'), ev('c2')]), events.track([ev('d')])];
    await turnEnd();
    await release();
    await release();
    await Promise.all(waiting);
    expect(calls.map((c) => c.map((e) => e.eventId))).toEqual([
      ['a', 'b1', 'b2'],
      ['c1', 'c2', 'd'],
    ]);
  });
});

describe('coalesceEvents with two batches in flight', () => {
  it('starts a second statement while the first is written, then queues until one commits', async () => {
    const { collector, calls, release } = heldCollector();
    const events = coalesceEvents(collector, { inFlight: 2 });
    const settled: string[] = [];
    const a = events.track([ev('a')]).then(() => settled.push('a'));
    await turnEnd();
    const b = events.track([ev('b')]).then(() => settled.push('b'));
    await turnEnd();
    const c = events.track([ev('c1'), ev('c2')]).then(() => settled.push('c'));
    const d = events.track([ev('d')]).then(() => settled.push('d'));
    await turnEnd();
    // Two statements at once; the others wait for either to commit, and go together.
    expect(calls.map((call) => call.map((e) => e.eventId))).toEqual([['a'], ['b']]);
    await release();
    await a;
    expect(settled).toEqual(['a']);
    expect(calls.map((call) => call.map((e) => e.eventId))).toEqual([['a'], ['b'], ['c1', 'c2', 'd']]);
    await release();
    await b;
    expect(settled).toEqual(['a', 'b']);
    await release();
    await Promise.all([c, d]);
    expect(settled).toEqual(['a', 'b', 'c', 'd']);
  });
});
