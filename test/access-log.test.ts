import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../api/app.ts';
import { createApiKey } from '../store/api-keys.ts';
import { logger } from '../store/logger.ts';
import { createTestDatabase, testEngines, type TestDatabase } from './support/engines.ts';
import { captureLog, type CapturedLog } from './support/log-capture.ts';
import { eventBatch } from './support/event-batches.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Operators can follow one request from the client's report to the server's logs: every
 * answer carries an `X-Request-Id` (the client's, when acceptable), and every request writes
 * one access-log line with that id, the caller, the operation, the status and the duration,
 * and nothing a client could regret sending (query text, variables, keys, customer ids).
 */
describe.each(await testEngines())('request ids and the access log on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let base: string;
  let log: CapturedLog;
  let appKey: string;
  let adminKey: string;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    log = captureLog();
    app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 1_000_000, logger: log.logger });
    base = `http://127.0.0.1:${await app.listen(0)}`;
    appKey = await createApiKey(database.db, 'checkout-app', 'app');
    adminKey = await createApiKey(database.db, 'ops-admin', 'admin');
  });
  afterAll(async () => {
    await app.close();
    await database.dispose();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  /** The access-log line of a request id, once the server has written it. */
  const accessLine = (requestId: string) =>
    vi.waitFor(() => {
      const line = log.lines.find((l) => l.msg === 'request' && l.requestId === requestId);
      if (!line) throw new Error(`no access-log line for ${requestId}`);
      return line;
    });

  it("returns the client's X-Request-Id on every route, and a fresh id when it is missing or unacceptable", async () => {
    const answers = await Promise.all([
      post({ query: '{ version }' }, { 'x-request-id': 'req-graphql-1' }),
      fetch(`${base}/health`, { headers: { 'x-request-id': 'req-health-1' } }),
      fetch(`${base}/ready`, { headers: { 'x-request-id': 'req-ready-1' } }),
      fetch(`${base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-events-1' }, body: '[]' }),
      fetch(`${base}/nowhere`, { headers: { 'x-request-id': 'req-404-1' } }),
    ]);
    expect(answers.map((a) => a.headers.get('x-request-id'))).toEqual(['req-graphql-1', 'req-health-1', 'req-ready-1', 'req-events-1', 'req-404-1']);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 401, 404]);

    const missing = await fetch(`${base}/health`);
    const tooLong = await fetch(`${base}/health`, { headers: { 'x-request-id': 'x'.repeat(129) } });
    const longest = await fetch(`${base}/health`, { headers: { 'x-request-id': 'y'.repeat(128) } });
    expect(missing.headers.get('x-request-id')).toMatch(UUID);
    expect(tooLong.headers.get('x-request-id')).toMatch(UUID);
    expect(longest.headers.get('x-request-id')).toBe('y'.repeat(128));
    expect(missing.headers.get('x-request-id')).not.toBe(tooLong.headers.get('x-request-id'));
  });

  it('writes one line per request with the caller, operation, fields, class, status and duration, and no query, variables, key or customer id', async () => {
    const response = await post(
      { query: 'query CheckoutBanner($id: String!) { customer(id: $id) { id tags { key value } } }', variables: { id: 'c424242' } },
      { authorization: `Bearer ${appKey}`, 'x-request-id': 'checkout-7f3a' },
    );
    expect(response.status).toBe(200);
    const line = await accessLine('checkout-7f3a');
    expect(line).toMatchObject({
      level: 30,
      msg: 'request',
      requestId: 'checkout-7f3a',
      method: 'POST',
      route: '/graphql',
      status: 200,
      key: 'checkout-app',
      operation: 'CheckoutBanner',
      operationType: 'query',
      fields: ['customer'],
      operationClass: 'profiles',
    });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line.errors).toBeUndefined();
    expect(log.text()).not.toMatch(/c424242|tags \{|CheckoutBanner\(|\$id/);
    expect(log.text()).not.toContain(appKey);
  });

  it('names the root fields of anonymous operations and the error codes of refused requests', async () => {
    const anonymous = await post({ query: '{ version customer(id: "c000001") { id } }' }, { 'x-request-id': 'anon-1' });
    expect(anonymous.status).toBe(200);
    expect(await accessLine('anon-1')).toMatchObject({
      key: 'anonymous',
      fields: ['customer', 'version'],
      operationClass: 'mixed',
      errors: ['UNAUTHENTICATED'],
      status: 200,
    });
    expect((await accessLine('anon-1')).operation).toBeUndefined();

    await post({ query: '{ viewer { name } }' }, { authorization: 'Bearer not-a-key', 'x-request-id': 'bad-key-1' });
    expect(await accessLine('bad-key-1')).toMatchObject({ key: 'refused', status: 401, errors: ['UNAUTHENTICATED'] });

    await post({ query: '{ version }' }, { authorization: `Bearer ${appKey}`, 'x-request-id': 'public-1' });
    expect(await accessLine('public-1')).toMatchObject({ key: 'unchecked', fields: ['version'], operationClass: 'public', status: 200 });

    await post({ query: '{ nope }' }, { 'x-request-id': 'invalid-1' });
    expect(await accessLine('invalid-1')).toMatchObject({ status: 400, errors: ['GRAPHQL_VALIDATION_FAILED'] });

    await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${appKey}`, 'x-request-id': 'events-1' },
      body: JSON.stringify(eventBatch(`log-${engine}`, 3)),
    });
    expect(await accessLine('events-1')).toMatchObject({ route: '/v1/events', key: 'checkout-app', status: 200 });
    await fetch(`${base}/nowhere`, { headers: { 'x-request-id': 'missing-1' } });
    expect(await accessLine('missing-1')).toMatchObject({ route: 'unmatched', status: 404, errors: ['NOT_FOUND'] });
  });

  it('logs an internal error with the request id the client gets back, and shows the client nothing else', async () => {
    const errors = vi.spyOn(logger, 'error');
    await database.db.schema.alterTable('strata.personal_data_reads').renameTo('personal_data_reads_away').execute();
    try {
      const response = await post({ query: '{ personalDataReads { actor } }' }, { authorization: `Bearer ${adminKey}`, 'x-request-id': 'incident-42' });
      const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
      expect(response.headers.get('x-request-id')).toBe('incident-42');
      expect(body.errors[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId: 'incident-42' });
      expect(body.errors[0]?.message).not.toMatch(/personal_data_reads|relation/);
      const logged = errors.mock.calls.find(([fields]) => (fields as { requestId?: string }).requestId === 'incident-42');
      expect(logged?.[1]).toBe('internal error');
      expect(JSON.stringify(logged?.[0])).toMatch(/personal_data_reads/);
      expect(await accessLine('incident-42')).toMatchObject({ errors: ['INTERNAL_SERVER_ERROR'], key: 'ops-admin' });
    } finally {
      errors.mockRestore();
      await database.db.schema.alterTable('strata.personal_data_reads_away').renameTo('personal_data_reads').execute();
    }
  });

  it('answers a request path it cannot read with 400 and keeps serving', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(base).port), '127.0.0.1', () => socket.end('GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toMatch(/x-request-id: /i);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
