import { describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { createAnalyticsLane } from './analytics-lane.ts';

/** The lane never touches the database itself: it hands `db` to the work, so any value will do here. */
const db = {} as Kysely<DatabaseSchema>;

/** A work the test finishes by hand, and whether it has started. */
function gatedWork() {
  let finish!: (value: string) => void;
  let started = false;
  const done = new Promise<string>((resolve) => (finish = resolve));
  return { work: async () => ((started = true), done), finish, started: () => started };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the analytics lane', () => {
  it('runs at most `concurrency` works at once and starts waiting ones in arrival order', async () => {
    const lane = createAnalyticsLane(db, { concurrency: 2, queue: 5, queueTimeoutMs: 60_000 });
    const works = Array.from({ length: 4 }, gatedWork);
    const results = works.map((w) => lane.run(w.work));
    await settle();
    expect(works.map((w) => w.started())).toEqual([true, true, false, false]);
    expect(lane.load()).toEqual({ running: 2, waiting: 2 });
    works[1]?.finish('b');
    await settle();
    expect(works.map((w) => w.started())).toEqual([true, true, true, false]);
    works[0]?.finish('a');
    works[2]?.finish('c');
    await settle();
    expect(works[3]?.started()).toBe(true);
    works[3]?.finish('d');
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(lane.load()).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses with RATE_LIMITED and a wait in seconds when the queue is full, without running the work', async () => {
    const lane = createAnalyticsLane(db, { concurrency: 1, queue: 1, queueTimeoutMs: 60_000 });
    const running = gatedWork();
    const queued = gatedWork();
    const first = lane.run(running.work);
    const second = lane.run(queued.work);
    let ranThird = false;
    await expect(lane.run(async () => (ranThird = true))).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      details: { retryAfter: expect.any(Number) },
      message: expect.stringMatching(/queue is full/),
    });
    expect(ranThird).toBe(false);
    running.finish('x');
    queued.finish('y');
    expect([await first, await second]).toEqual(['x', 'y']);
  });

  it('gives up on a waiting work after the queue timeout and frees its place', async () => {
    const lane = createAnalyticsLane(db, { concurrency: 1, queue: 1, queueTimeoutMs: 20 });
    const running = gatedWork();
    const first = lane.run(running.work);
    await expect(lane.run(async () => 'never')).rejects.toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/within 20 ms/) });
    expect(lane.load()).toEqual({ running: 1, waiting: 0 });
    running.finish('done');
    expect(await first).toBe('done');
    expect(await lane.run(async () => 'next')).toBe('next');
  });

  it('frees the slot when a work fails', async () => {
    const lane = createAnalyticsLane(db, { concurrency: 1, queue: 0, queueTimeoutMs: 60_000 });
    await expect(
      lane.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(lane.load()).toEqual({ running: 0, waiting: 0 });
    expect(await lane.run(async (given) => given === db)).toBe(true);
  });
});
