import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { testEngines } from './support/engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import type { GqlResponse } from './support/graphql-client.ts';

/**
 * The concurrency cap of expensive work over HTTP, with one analytics slot and one queue
 * place: while a metric query holds the slot, app teams' profile reads still answer, a
 * second analytics request waits and gives up after the queue timeout, a third finds the
 * queue full, both with RATE_LIMITED and Retry-After, and /ready reports the database up.
 * On PostgreSQL the slot is held by a real metric query blocked on a table lock (it runs on
 * the analytics pool); PGlite has one connection, so there the slot is held by work running
 * in the app's own lane while the connection is free.
 */

const QUEUE_TIMEOUT_MS = 5_000;
const METRIC = '{ metrics(query: { metrics: ["purchase_amount"] }) { rows } }';

describe.each(await testEngines())('the analytics cap over HTTP on %s', (engine) => {
  let server: DemoServer<'analyst' | 'app' | 'operator'>;

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: 60,
      seed: 3,
      keys: { analyst: ['bi', 'analyst'], app: ['mobile-app', 'app'], operator: ['ops', 'operator'] },
      app: { analyticsCapacity: { concurrency: 1, queue: 1, queueTimeoutMs: QUEUE_TIMEOUT_MS } },
    });
    const { post } = client();
    expect((await post(server.keys.operator, 'mutation { materializeTags { runId } }')).body.errors).toBeUndefined();
    expect((await post(server.keys.analyst, METRIC)).body.errors).toBeUndefined();
  });
  afterAll(() => server?.close());

  function client() {
    const post = async (token: string, query: string) => {
      const response = await fetch(`${server.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as GqlResponse };
    };
    return { post };
  }

  /** Fills the one analytics slot; resolves once the lane reports it running, with what releases it. */
  async function holdSlot(): Promise<{ finished(): boolean; release(): Promise<unknown> }> {
    let finished = false;
    if (engine === 'postgres') {
      const locker = new pg.Client({ connectionString: server.database.url });
      await locker.connect();
      await locker.query('begin');
      await locker.query('lock table wealth.transactions in access exclusive mode');
      const running = client()
        .post(server.keys.analyst, METRIC)
        .finally(() => (finished = true));
      await until(() => server.app.analytics.load().running === 1);
      // The metric query waits on the lock in a session of the analytics pool, not of the app's pool.
      const waitingOn = async () =>
        (
          await locker.query<{ app: string }>(
            `select application_name as app from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
          )
        ).rows.map((r) => r.app);
      for (let i = 0; i < 600 && (await waitingOn()).length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await waitingOn()).toEqual(['strata-analytics']);
      return {
        finished: () => finished,
        async release() {
          await locker.query('commit');
          await locker.end();
          const answer = await running;
          expect(answer.body.errors).toBeUndefined();
          expect(answer.body.data?.metrics.rows).toHaveLength(1);
          return answer;
        },
      };
    }
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const running = server.app.analytics
      .run(async (db) => {
        await db
          .selectFrom('wealth.transactions')
          .select((eb) => eb.fn.countAll().as('n'))
          .execute();
        await gate;
      })
      .finally(() => (finished = true));
    await until(() => server.app.analytics.load().running === 1);
    return {
      finished: () => finished,
      async release() {
        open();
        return running;
      },
    };
  }

  it('keeps profile reads and /ready answering while analytics are saturated, and refuses the overflow with Retry-After', async () => {
    const { post } = client();
    const slot = await holdSlot();
    try {
      const profiles = await Promise.all(
        ['c000001', 'c000002', 'c000003'].map((id) => post(server.keys.app, `{ customer(id: "${id}") { id tags { key value } } }`)),
      );
      for (const [i, answer] of profiles.entries()) expect(answer.body).toMatchObject({ data: { customer: { id: `c00000${i + 1}` } } });
      expect(slot.finished()).toBe(false);

      const ready = await fetch(`${server.base}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', reachable: true, migrationsCurrent: true });

      const queued = post(server.keys.analyst, METRIC);
      await until(() => server.app.analytics.load().waiting === 1);
      const overflow = await post(server.keys.analyst, METRIC);
      expect(overflow.status).toBe(429);
      expect(overflow.retryAfter).toMatch(/^[1-9]\d*$/);
      expect(overflow.body.errors?.[0]).toMatchObject({
        extensions: { code: 'RATE_LIMITED', retryAfter: Number(overflow.retryAfter) },
        message: expect.stringMatching(/queue is full.*1 running, 1 waiting \(STRATA_ANALYTICS_CONCURRENCY, STRATA_ANALYTICS_QUEUE\)/),
      });

      const timedOut = await queued;
      expect(timedOut.status).toBe(429);
      expect(timedOut.retryAfter).toMatch(/^[1-9]\d*$/);
      expect(timedOut.body.errors?.[0]).toMatchObject({
        extensions: { code: 'RATE_LIMITED' },
        message: expect.stringMatching(/No analytics slot became free within 5,000 ms \(STRATA_ANALYTICS_QUEUE_TIMEOUT_MS\)/),
      });
      expect(server.app.analytics.load()).toEqual({ running: 1, waiting: 0 });
      expect(slot.finished()).toBe(false);
    } finally {
      await slot.release();
    }
    expect(server.app.analytics.load()).toEqual({ running: 0, waiting: 0 });
    expect((await post(server.keys.analyst, METRIC)).body.errors).toBeUndefined();
  });
});

/** Polls a condition the test waits for (a liveness bound of 30 s, not a timing assertion). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('gave up waiting for the analytics lane');
}
