import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createApp } from '../api/app.ts';
import { createApiKey } from '../store/api-keys.ts';
import { openDatabase } from '../store/database.ts';
import { createTestDatabase, isPostgresReachable, type TestDatabase } from './support/engines.ts';
import { eventBatch } from './support/event-batches.ts';
import { sendBatch, startEventLoad, type Attempt } from './support/event-load.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { collectOutput, logLines, waitForExit, waitForOutput } from './support/child-process.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const postgres = await isPostgresReachable();

/** Runs `query` on a fresh connection to the test database (the app's pool may be the one under fault). */
async function queryDirect<R extends pg.QueryResultRow>(database: TestDatabase, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const storedIds = async (database: TestDatabase, prefix: string) =>
  (await queryDirect<{ event_id: string }>(database, 'select event_id from wealth.app_events where event_id like $1', [`${prefix}-%`])).map((r) => r.event_id);

/** Polls `check` until it holds; fails the test after `attempts` tries (a liveness bound, not a timing). */
async function eventually(check: () => Promise<boolean>, what: string, attempts = 600): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`gave up waiting until ${what}`);
}

/** How a child process ended, or 'still running' after `ms` (a liveness bound: the test fails instead of hanging). */
const endedWithin = <T>(exited: Promise<T>, ms: number): Promise<T | 'still running'> => Promise.race([exited, sleep(ms, 'still running' as const)]);

/** Terminates every other backend of the database in a loop, as an operator or a failover would. */
function terminateBackendsRepeatedly(database: TestDatabase) {
  const name = new URL(database.url as string).pathname.slice(1);
  let running = true;
  let terminated = 0;
  const loop = (async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      while (running) {
        const [row] = (
          await admin.query<{ n: number }>(
            `select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity
            where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend') killed`,
            [name],
          )
        ).rows;
        terminated += row?.n ?? 0;
        await sleep(20);
      }
    } finally {
      await admin.end();
    }
  })();
  return { stop: async () => ((running = false), await loop, terminated) };
}

describe.skipIf(!postgres)('faults on PostgreSQL', () => {
  it('stores every acknowledged event exactly once while backends are terminated during ingestion', async () => {
    const database = await createTestDatabase('postgres');
    const served = await openDatabase({ databaseUrl: database.url, poolSize: 4 });
    const app = await createApp(served, bundledDomain(), { dev: false, maxBodyBytes: 2_000_000, anonymousRole: 'app' });
    const base = `http://127.0.0.1:${await app.listen(0)}`;
    const killer = terminateBackendsRepeatedly(database);
    const attempts: Attempt[] = [];
    const acknowledged = new Set<string>();
    const gaveUp = new Set<string>();
    try {
      // Jepsen-style clients: each batch is retried until acknowledged or given up on; they
      // keep going past their share until at least one request has met a terminated backend.
      const client = async (index: number) => {
        for (let n = 0; n < 20 || (n < 200 && !attempts.some((a) => a.status === 503)); n += 1) {
          const events = eventBatch(`jepsen-${index}-${n}`, 20);
          const ids = events.map((e) => e.eventId as string);
          let acked = false;
          for (let attempt = 1; attempt <= 8 && !acked; attempt += 1) {
            const outcome = await sendBatch(base, null, ids, events);
            attempts.push(outcome);
            acked = outcome.status === 200;
            if (!acked) await sleep(10 * attempt);
          }
          for (const id of ids) (acked ? acknowledged : gaveUp).add(id);
        }
      };
      await Promise.all([0, 1, 2, 3].map(client));
    } finally {
      expect(await killer.stop()).toBeGreaterThan(0);
      await app.close();
      await served.close();
    }
    try {
      const stored = await storedIds(database, 'jepsen');
      const refused = attempts.filter((a) => a.status !== 200);
      expect(refused.length, 'no request met a terminated backend').toBeGreaterThan(0);
      for (const attempt of refused) {
        expect(attempt).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/), body: { error: { code: 'UNAVAILABLE' } } });
      }
      for (const attempt of attempts.filter((a) => a.status === 200)) {
        const body = attempt.body as { accepted: number; duplicates: number; rejected: unknown[] };
        expect(body.accepted + body.duplicates).toBe(attempt.ids.length);
        expect(body.rejected).toEqual([]);
      }
      expect(new Set(stored).size, 'an event was stored twice').toBe(stored.length);
      expect(
        [...acknowledged].filter((id) => !stored.includes(id)),
        'acknowledged events were lost',
      ).toEqual([]);
      const sent = new Set([...acknowledged, ...gaveUp]);
      expect(stored.filter((id) => !sent.has(id))).toEqual([]);
    } finally {
      await database.dispose();
    }
  });

  it('answers 503 UNAVAILABLE while the database is unreachable, version and /health meanwhile, and recovers without restart', async () => {
    const database = await createTestDatabase('postgres');
    const key = await createApiKey(database.db, 'ops', 'admin');
    const target = new URL(database.url as string);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(target);
    proxied.host = `127.0.0.1:${proxy.port}`;
    const served = await openDatabase({ databaseUrl: proxied.toString(), poolSize: 4 });
    const app = await createApp(served, bundledDomain(), { dev: false, maxBodyBytes: 1_000_000, anonymousRole: null });
    const base = `http://127.0.0.1:${await app.listen(0)}`;
    const graphql = async (query: string, token: string | null = key, variables?: unknown) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(`${base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
    };
    const METRIC = '{ metrics(query: { metrics: ["purchase_amount"] }) { rows } }';
    const TRACK = 'mutation T($events: [TrackEventInput!]!) { trackEvents(events: $events) { accepted } }';
    try {
      expect((await graphql(METRIC)).status).toBe(200);
      await proxy.stop();

      const version = await graphql('{ version health { ok } }', 'sk_never_seen_before');
      expect(version).toMatchObject({ status: 200, body: { data: { version: expect.any(String), health: { ok: false } } } });
      expect(version.body.errors).toBeUndefined();
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ reachable: false });
      for (const [query, token, variables] of [
        [METRIC, key],
        [METRIC, 'sk_never_seen_before'],
        [TRACK, key, { events: eventBatch('outage-gql', 1) }],
      ] as const) {
        const answer = await graphql(query, token, variables);
        expect(answer).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
        expect(answer.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAVAILABLE' }, message: expect.stringMatching(/retry/i) })]);
        expect(JSON.stringify(answer.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|terminated/);
      }
      for (const token of [key, 'sk_never_seen_before']) {
        const ids = [`outage-${token.length}-0`];
        const events = await sendBatch(base, token, ids, eventBatch(`outage-${token.length}`, 1));
        expect(events).toMatchObject({
          status: 503,
          retryAfter: expect.stringMatching(/^\d+$/),
          body: { error: { code: 'UNAVAILABLE', message: expect.stringMatching(/retry/i) } },
        });
      }

      await proxy.start();
      await eventually(async () => (await fetch(`${base}/ready`)).status === 200, '/ready answered 200 again');
      const metric = await graphql(METRIC);
      expect(metric.status).toBe(200);
      expect(metric.body.errors).toBeUndefined();
      expect(await sendBatch(base, key, [], eventBatch('recovered', 2))).toMatchObject({ status: 200, body: { accepted: 2 } });
      expect((await graphql(TRACK, key, { events: eventBatch('recovered-gql', 1) })).body).toEqual({ data: { trackEvents: { accepted: 1 } } });
      expect(await storedIds(database, 'outage')).toEqual([]);
    } finally {
      await app.close();
      await served.close();
      await proxy.close();
      await database.dispose();
    }
  });

  /** `strata serve` in a child process on a throwaway migrated database, with an `app` key. */
  async function startServerProcess(database: TestDatabase, graceMs: number) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'api/cli.ts', 'serve', '--port', '0'], {
      cwd: REPO,
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        STRATA_SQL_PORT: '0',
        STRATA_ANONYMOUS_ROLE: 'none',
        STRATA_SHUTDOWN_GRACE_MS: String(graceMs),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr = collectOutput(child.stderr);
    const exited = waitForExit(child);
    try {
      const [, port] = await waitForOutput(child.stdout, /localhost:(\d+)\/graphql/);
      return { child, stderr, exited, base: `http://127.0.0.1:${port}`, key: await createApiKey(database.db, 'loader', 'app') };
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** Locks the events table from another session: inserts wait until `release()`. */
  async function lockEvents(database: TestDatabase) {
    const client = new pg.Client({ connectionString: database.url });
    client.on('error', () => undefined); // dropping the database after a failed test ends this session
    await client.connect();
    await client.query('begin');
    await client.query('lock table wealth.app_events in exclusive mode');
    const name = new URL(database.url as string).pathname.slice(1);
    let released: Promise<void> | undefined;
    return {
      waiting: async () =>
        (
          await queryDirect<{ n: number }>(database, `select count(*)::int as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'`, [name])
        )[0]?.n ?? 0,
      release: () => (released ??= client.query('commit').then(() => client.end())),
    };
  }

  it('drains on SIGTERM under load: exit 0, requests in flight answered, stored events exactly the acknowledged ones', { timeout: 300_000 }, async () => {
    const database = await createTestDatabase('postgres');
    const server = await startServerProcess(database, 60_000);
    let lock: Awaited<ReturnType<typeof lockEvents>> | undefined;
    try {
      const load = startEventLoad({ base: server.base, token: server.key, clients: 4, size: 50, prefix: 'load' });
      await load.acknowledged(20);
      // Hold the next batch of every client inside the server, so the signal meets requests in flight.
      lock = await lockEvents(database);
      const held = lock;
      await eventually(async () => (await held.waiting()) === 4, 'every client had a request waiting in the server');
      const inFlight = load.markInFlight();
      server.child.kill('SIGTERM');
      const refused = () =>
        fetch(`${server.base}/health`).then(
          () => false,
          (error: { cause?: { code?: string } }) => error.cause?.code === 'ECONNREFUSED',
        );
      await eventually(refused, 'the server stopped accepting connections');
      await lock.release();

      expect(await endedWithin(server.exited, 120_000)).toEqual({ code: 0, signal: null });
      await load.done();
      expect(inFlight).toHaveLength(4);
      for (const attempt of inFlight) {
        expect(attempt).toMatchObject({ status: 200, connection: 'close', body: { accepted: 50, duplicates: 0, rejected: [] } });
      }
      for (const attempt of load.attempts.filter((a) => a.status !== 200)) expect(attempt).toMatchObject({ error: 'ECONNREFUSED' });
      const acknowledged = load.attempts.filter((a) => a.status === 200).flatMap((a) => a.ids);
      expect((await storedIds(database, 'load')).sort()).toEqual([...acknowledged].sort());
      expect(logLines(server.stderr(), 'stopped')).toEqual([expect.objectContaining({ answered: 4, cutOff: 0, poolEnded: true })]);
    } finally {
      server.child.kill('SIGKILL');
      await lock?.release().catch(() => undefined);
      await database.dispose();
    }
  });

  it('exits with 0 when a request outlasts the grace period, without waiting for it', { timeout: 300_000 }, async () => {
    const database = await createTestDatabase('postgres');
    const server = await startServerProcess(database, 1_000);
    const lock = await lockEvents(database);
    try {
      const stuck = sendBatch(server.base, server.key, [], eventBatch('stuck', 1));
      await eventually(async () => (await lock.waiting()) === 1, 'the request waited in the server');
      server.child.kill('SIGTERM');
      // The lock is still held: the process stops because the grace period is over.
      expect(await endedWithin(server.exited, 120_000)).toEqual({ code: 0, signal: null });
      expect(await stuck).toMatchObject({ error: 'UND_ERR_SOCKET' });
      expect(logLines(server.stderr(), 'stopped')).toEqual([expect.objectContaining({ answered: 0, cutOff: 1 })]);
    } finally {
      server.child.kill('SIGKILL');
      await lock.release().catch(() => undefined);
      await database.dispose();
    }
  });
});
