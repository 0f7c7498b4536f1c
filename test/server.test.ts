import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../api/app.ts';
import { createTestDatabase, isPostgresReachable, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { migrateDown } from '../store/migrate.ts';
import { createApiKey } from '../store/api-keys.ts';
import { answersAcrossBlockedLoop } from './support/kept-alive-requests.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

await describeEachEngine('HTTP server on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let base: string;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 64 * 1024 });
    base = `http://127.0.0.1:${await app.listen(0)}`;
  });
  afterAll(async () => {
    await app.close();
    await database.dispose();
  });

  const graphql = (query: string) =>
    fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });

  it('serves a request sent on a kept-alive connection while the event loop was blocked past its idle timeout (no ECONNRESET)', async () => {
    const { keepAliveTimeout, keepAliveTimeoutBuffer } = app.server as typeof app.server & { keepAliveTimeoutBuffer?: number };
    app.server.keepAliveTimeout = 100;
    Object.assign(app.server, { keepAliveTimeoutBuffer: 0 });
    try {
      expect(await answersAcrossBlockedLoop(Number(new URL(base).port), 400)).toBe(2);
    } finally {
      app.server.keepAliveTimeout = keepAliveTimeout;
      Object.assign(app.server, { keepAliveTimeoutBuffer });
    }
  });

  it('answers /health without credentials', async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /ready when the database is reachable and migrated', async () => {
    const response = await fetch(`${base}/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ready', reachable: true, migrationsCurrent: true });
  });

  it('answers a GraphQL query over POST and GET', async () => {
    const posted = await graphql('{ version health { ok engine } }');
    expect(posted.status).toBe(200);
    expect(await posted.json()).toEqual({ data: { version: expect.stringMatching(/^\d+\.\d+\.\d+/), health: { ok: true, engine } } });
    const got = await fetch(`${base}/graphql?query=${encodeURIComponent('{ health { ok } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await got.json()).toEqual({ data: { health: { ok: true } } });
  });

  it('refuses an invalid query with a validation code and no stack trace', async () => {
    const response = await graphql('{ nope }');
    const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors[0]?.extensions.stacktrace).toBeUndefined();
  });

  it('refuses a body over the size limit and malformed JSON', async () => {
    const big = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(70 * 1024) });
    expect(big.status).toBe(413);
    const malformed = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
    expect(malformed.status).toBe(400);
  });

  it('answers introspection only to callers with credentials, and never when switched off', async () => {
    const introspect = (at: string, token?: string) =>
      fetch(`${at}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query: '{ ...Types } fragment Types on Query { __schema { queryType { name } } }' }),
      }).then((r) => r.json() as Promise<{ data?: unknown; errors?: { extensions: { code: string } }[] }>);
    const anonymous = await introspect(base);
    expect(anonymous.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect(anonymous.data ?? null).toBeNull();
    const key = await createApiKey(database.db, `introspect-${engine}`, 'analyst');
    expect(await introspect(base, key)).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    const closed = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 64 * 1024, introspection: false });
    try {
      const refused = await introspect(`http://127.0.0.1:${await closed.listen(0)}`, key);
      expect(refused.errors?.[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await closed.close();
    }
    const { loadConfig } = await import('../api/config.ts');
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadConfig({}).introspection).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', STRATA_INTROSPECTION: '1' }).introspection).toBe(true);
  });

  it('answers 404 for an unknown route', async () => {
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });

  it('reports not ready while a migration is missing', async () => {
    await migrateDown(database.db);
    const response = await fetch(`${base}/ready`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'not ready', migrationsCurrent: false });
  });
});

describe('error formatting', () => {
  it('answers a statement cut off by the timeout with TIMEOUT and no SQL', async () => {
    const { formatError } = await import('../api/format-error.ts');
    const cancelled = Object.assign(new Error('canceling statement due to statement timeout: SELECT secret FROM wealth.customers'), { code: '57014' });
    const formatted = formatError({ message: cancelled.message, path: ['metrics'] }, cancelled);
    expect(formatted.extensions?.code).toBe('TIMEOUT');
    expect(formatted.message).not.toMatch(/SELECT|wealth/);
    const other = formatError({ message: 'relation "wealth.x" does not exist', path: ['metrics'] }, new Error('relation "wealth.x" does not exist'));
    expect(other).toMatchObject({ extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(other.message).not.toMatch(/wealth/);
  });
});

const postgresReachable = await isPostgresReachable();

describe('database settings from the environment', () => {
  it('reads the statement timeout and pool size, and refuses bad values', async () => {
    const { loadConfig, databaseOptions } = await import('../api/config.ts');
    expect(databaseOptions(loadConfig({}))).toMatchObject({ statementTimeoutMs: 30_000, poolSize: 10 });
    expect(databaseOptions(loadConfig({ STRATA_STATEMENT_TIMEOUT_MS: '0', STRATA_DB_POOL_SIZE: '32' }))).toMatchObject({ statementTimeoutMs: 0, poolSize: 32 });
    expect(() => loadConfig({ STRATA_STATEMENT_TIMEOUT_MS: '-5' })).toThrow(/STRATA_STATEMENT_TIMEOUT_MS/);
    expect(() => loadConfig({ STRATA_DB_POOL_SIZE: '0' })).toThrow(/STRATA_DB_POOL_SIZE/);
  });

  it('reads the shutdown grace period, 10 s by default, and refuses a negative one', async () => {
    const { loadConfig } = await import('../api/config.ts');
    expect(loadConfig({}).shutdownGraceMs).toBe(10_000);
    expect(loadConfig({ STRATA_SHUTDOWN_GRACE_MS: '2500' }).shutdownGraceMs).toBe(2_500);
    expect(() => loadConfig({ STRATA_SHUTDOWN_GRACE_MS: '-1' })).toThrow(/STRATA_SHUTDOWN_GRACE_MS/);
  });

  it.runIf(postgresReachable)('cuts off a PostgreSQL statement at the configured timeout; 0 sets none', async () => {
    const { openDatabase } = await import('../store/database.ts');
    const { sql } = await import('kysely');
    const url = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const short = await openDatabase({ databaseUrl: url, poolSize: 1, statementTimeoutMs: 100 });
    const none = await openDatabase({ databaseUrl: url, poolSize: 1, statementTimeoutMs: 0 });
    try {
      await expect(sql`SELECT pg_sleep(1)`.execute(short.db)).rejects.toMatchObject({ code: '57014' });
      const { rows } = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(none.db);
      expect(rows[0]?.statement_timeout).toBe('0');
    } finally {
      await short.close();
      await none.close();
    }
  });
});
