import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { sql } from 'kysely';
import { isConnectionFailure } from './connection-failure.ts';
import { formatError } from './format-error.ts';
import { retryableAnswer } from './retryable-status.ts';
import { StrataError } from '../modeling/errors.ts';
import { createTestDatabase, isPostgresReachable } from '../test/support/engines.ts';
import { describeEachEngine } from '../test/support/describe-engines.ts';

const postgres = await isPostgresReachable();
const ADMIN_URL = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The error a promise rejects with (the test fails if it resolves). */
async function failure(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected the work to fail');
}

/** A local TCP server that treats every connection with `onConnection`, for broken databases. */
async function fakeDatabase(onConnection: (socket: Socket) => void): Promise<{ url: string; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `postgres://x@127.0.0.1:${(server.address() as AddressInfo).port}/x`, server, sockets };
}

async function connectError(url: string, options: Partial<pg.ClientConfig> = {}): Promise<unknown> {
  const client = new pg.Client({ connectionString: url, ...options });
  return failure(client.connect());
}

describe('connection failures raised by node-postgres', () => {
  const servers: Server[] = [];
  const socketSets: Set<Socket>[] = [];
  afterAll(async () => {
    for (const sockets of socketSets) for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });
  const track = <T extends { server: Server; sockets: Set<Socket> }>(fake: T): T => {
    servers.push(fake.server);
    socketSets.push(fake.sockets);
    return fake;
  };

  it('recognises a refused connection', async () => {
    const closed = track(await fakeDatabase(() => undefined));
    await new Promise((resolve) => closed.server.close(resolve));
    const error = await connectError(closed.url);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isConnectionFailure(error)).toBe(true);
  });

  it('recognises a connection the server drops', async () => {
    const dropping = track(await fakeDatabase((socket) => socket.destroy()));
    const error = await connectError(dropping.url);
    expect(isConnectionFailure(error)).toBe(true);
  });

  it('recognises a connection that never answers within the connect timeout', async () => {
    const silent = track(await fakeDatabase(() => undefined));
    const error = await connectError(silent.url, { connectionTimeoutMillis: 100 });
    expect(String(error)).toMatch(/timeout/);
    expect(isConnectionFailure(error)).toBe(true);
  });

  it.runIf(postgres)('recognises a backend terminated by an administrator, and a pool with no free connection', async () => {
    const pool = new pg.Pool({ connectionString: ADMIN_URL, max: 1, connectionTimeoutMillis: 100 });
    pool.on('error', () => undefined);
    const held = await pool.connect();
    held.on('error', () => undefined);
    try {
      const poolTimeout = await failure(pool.query('select 1'));
      expect(poolTimeout).toMatchObject({ message: 'timeout exceeded when trying to connect' });
      expect(isConnectionFailure(poolTimeout)).toBe(true);

      const {
        rows: [backend],
      } = await held.query<{ pid: number }>('select pg_backend_pid() as pid');
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [backend?.pid]);
      await admin.end();
      const terminated = await failure(held.query('select 1'));
      expect(isConnectionFailure(terminated)).toBe(true);
    } finally {
      held.release(true);
      await pool.end();
    }
  });
});

await describeEachEngine('errors that are not connection failures on %s', (engine) => {
  it('leaves syntax errors, constraint violations, statement timeouts and domain errors alone', async () => {
    const database = await createTestDatabase(engine, { migrate: false });
    try {
      const syntax = await failure(sql`selec 1`.execute(database.db));
      await sql`create table t (id int primary key)`.execute(database.db);
      await sql`insert into t values (1)`.execute(database.db);
      const duplicate = await failure(sql`insert into t values (1)`.execute(database.db));
      expect(isConnectionFailure(syntax)).toBe(false);
      expect(isConnectionFailure(duplicate)).toBe(false);
      expect(isConnectionFailure(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toBe(false);
      expect(isConnectionFailure(new StrataError('BAD_USER_INPUT', 'Connection terminated is a fine tag description'))).toBe(false);
    } finally {
      await database.dispose();
    }
  });
});

describe('the answer to a connection failure', () => {
  let refused: unknown;
  beforeAll(async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    refused = await connectError(`postgres://x@127.0.0.1:${port}/x`);
  });

  it('is UNAVAILABLE with a message that says to retry and names no host or port', () => {
    const formatted = formatError({ message: String(refused), path: ['metrics'] }, refused);
    expect(formatted).toMatchObject({ path: ['metrics'], extensions: { code: 'UNAVAILABLE' } });
    expect(formatted.message).toMatch(/retry/i);
    expect(formatted.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|\d{4,5}/);
  });

  it('asks for HTTP 503 with Retry-After; RATE_LIMITED asks for 429 and its own wait', () => {
    expect(retryableAnswer([{ extensions: { code: 'UNAVAILABLE' } }])).toEqual({ status: 503, retryAfterSeconds: 5 });
    expect(retryableAnswer([{ extensions: { code: 'RATE_LIMITED', retryAfter: 12.5 } }])).toEqual({ status: 429, retryAfterSeconds: 13 });
    expect(retryableAnswer([{ extensions: { code: 'RATE_LIMITED' } }, { extensions: { code: 'UNAVAILABLE' } }])).toEqual({ status: 503, retryAfterSeconds: 5 });
    expect(retryableAnswer([{ extensions: { code: 'FORBIDDEN' } }, {}])).toBeUndefined();
  });
});
