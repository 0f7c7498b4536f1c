import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createApp } from '../api/app.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { eventBatch } from './support/event-batches.ts';
import { holdDatabase } from './support/hold-database.ts';
import { waitForExit, waitForOutput } from './support/child-process.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** Resolves once `count` requests have reached the server (their answers are still to come). */
function requestsArrived(server: Server, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onRequest = () => {
      seen += 1;
      if (seen < count) return;
      server.off('request', onRequest);
      resolve();
    };
    server.on('request', onRequest);
  });
}

/** Ends what is left of a process group this suite started (nothing, when the test passed). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

const postEvents = (base: string, events: unknown) =>
  fetch(`${base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });

await describeEachEngine('stopping the HTTP app on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await database.dispose();
  });

  const storedWithPrefix = async (prefix: string) => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from wealth.app_events where event_id like ${`${prefix}-%`}`.execute(database.db);
    return rows[0]?.n;
  };

  it('refuses new connections, answers every request in flight with Connection: close, and /ready with 503', async () => {
    const app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 1_000_000, anonymousRole: 'app' });
    const base = `http://127.0.0.1:${await app.listen(0)}`;
    const hold = await holdDatabase(engine, database);
    const arrived = requestsArrived(app.server, 2);
    const events = postEvents(base, eventBatch('drained', 3));
    const ready = fetch(`${base}/ready`);
    await arrived;

    const closing = app.close({ graceMs: 120_000 });
    await expect(fetch(`${base}/health`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await hold.release();

    const [eventsAnswer, readyAnswer] = await Promise.all([events, ready]);
    expect(eventsAnswer.status).toBe(200);
    expect(eventsAnswer.headers.get('connection')).toBe('close');
    expect(await eventsAnswer.json()).toMatchObject({ accepted: 3, duplicates: 0, rejected: [] });
    expect(readyAnswer.status).toBe(503);
    expect(readyAnswer.headers.get('connection')).toBe('close');
    expect(await readyAnswer.json()).toMatchObject({ status: 'draining' });
    expect(await closing).toEqual({ answered: 2, cutOff: 0 });
    expect(await storedWithPrefix('drained')).toBe(3);
  });

  it('cuts off a request still running when the grace period is over, and stops', async () => {
    const app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 1_000_000, anonymousRole: 'app' });
    const base = `http://127.0.0.1:${await app.listen(0)}`;
    const hold = await holdDatabase(engine, database);
    try {
      const arrived = requestsArrived(app.server, 1);
      const events = postEvents(base, eventBatch('cut-off', 2)).then(
        (response) => ({ status: response.status }),
        (error: unknown) => ({ error }),
      );
      await arrived;
      // The database is still held: close() resolves only because the grace period ran out.
      expect(await app.close({ graceMs: 200 })).toEqual({ answered: 0, cutOff: 1 });
      expect(await events).toMatchObject({ error: { cause: { code: 'UND_ERR_SOCKET' } } });
    } finally {
      await hold.release();
    }
  });
});

describe('npm run serve', () => {
  it('stops on a SIGTERM sent to npm, leaving no server process behind', async () => {
    // Its own process group, so that whatever it leaves behind can be ended after the test.
    const child = spawn('npm', ['run', 'serve', '--', '--port', '0'], {
      cwd: REPO,
      env: { ...process.env, STRATA_DATA_DIR: 'memory://', STRATA_SQL_PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    try {
      const exited = waitForExit(child);
      const [, port] = await waitForOutput(child.stdout, /localhost:(\d+)\/graphql/);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/health`)).status).toBe(200);

      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      await expect(fetch(`${base}/health`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    } finally {
      killGroup(child.pid);
    }
  });
});
