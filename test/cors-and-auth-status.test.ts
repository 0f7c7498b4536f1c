import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../api/app.ts';
import { authAnswer } from '../api/auth-status.ts';
import { parseCorsOrigins } from '../api/cors.ts';
import { createApiKey, revokeApiKey } from '../store/api-keys.ts';
import { createTestDatabase, testEngines, type TestDatabase } from './support/engines.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

const ALLOWED = 'https://bi.example.com';
const OTHER = 'https://evil.example.net';

/**
 * Browsers on the configured origins can call the API (CORS), every other origin is refused
 * at the preflight, and Apollo's CSRF prevention still stops simple cross-site requests.
 * Refused credentials answer like the REST routes: 401 with `WWW-Authenticate`, 403 for a
 * role that may not, 200 when some data is there.
 */
describe.each(await testEngines())('CORS and HTTP statuses of refused credentials on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let base: string;
  let analystKey: string;
  let revokedKey: string;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 64 * 1024, corsOrigins: [ALLOWED] });
    base = `http://127.0.0.1:${await app.listen(0)}`;
    analystKey = await createApiKey(database.db, 'cors-analyst', 'analyst');
    revokedKey = await createApiKey(database.db, 'cors-revoked', 'analyst');
    await revokeApiKey(database.db, database.changes, 'cors-revoked');
  });
  afterAll(async () => {
    await app.close();
    await database.dispose();
  });

  const preflight = (origin: string, path = '/graphql') =>
    fetch(`${base}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-request-id' },
    });
  const post = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

  it('answers a preflight from an allowed origin with 204 and what it may send', async () => {
    for (const path of ['/graphql', '/v1/events']) {
      const response = await preflight(ALLOWED, path);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, HEAD');
      const headers = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(', ');
      expect(headers).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-request-id', 'apollo-require-preflight']));
      expect(response.headers.get('vary')).toContain('Origin');
    }
  });

  it('refuses a preflight from another origin, and gives its answers no CORS header', async () => {
    const refused = await preflight(OTHER);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(await refused.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });

    const allowed = await post('{ version }', { origin: ALLOWED });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    const other = await post('{ version }', { origin: OTHER });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps refusing simple cross-site requests (CSRF), from allowed origins too', async () => {
    for (const origin of [ALLOWED, OTHER]) {
      const textPlain = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin },
        body: JSON.stringify({ query: '{ version }' }),
      });
      expect(textPlain.status).toBe(400);
      expect(await textPlain.text()).toMatch(/Cross-Site Request Forgery/);
      const get = await fetch(`${base}/graphql?query=${encodeURIComponent('{ version }')}`, { headers: { origin } });
      expect(get.status).toBe(400);
    }
  });

  it('opens to every origin with `*`', async () => {
    const open = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 1_000, corsOrigins: '*' });
    try {
      const response = await fetch(`http://127.0.0.1:${await open.listen(0)}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: OTHER, 'access-control-request-method': 'POST' },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await open.close();
    }
  });

  it('answers 401 with WWW-Authenticate when no data is served for lack of valid credentials', async () => {
    const none = await post('{ viewer { name } }');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="strata"');
    expect(await none.json()).toMatchObject({ data: null, errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    for (const token of [revokedKey, 'no-such-key']) {
      const refused = await post('{ viewer { name } }', { authorization: `Bearer ${token}` });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="strata", error="invalid_token"');
    }
    const nullable = await post('{ customer(id: "c000001") { id } }');
    expect(nullable.status).toBe(401);
    expect(await nullable.json()).toMatchObject({ data: { customer: null } });
  });

  it('answers 403 to a role that may not, and 200 when part of the answer is data', async () => {
    const forbidden = await post('{ customer(id: "c000001") { id } }', { authorization: `Bearer ${analystKey}` });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('www-authenticate')).toBeNull();
    expect(await forbidden.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const partial = await post('{ version customer(id: "c000001") { id } }', { authorization: `Bearer ${analystKey}` });
    expect(partial.status).toBe(200);
    expect(await partial.json()).toMatchObject({ data: { version: expect.any(String), customer: null }, errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    expect((await post('{ viewer { name role } }', { authorization: `Bearer ${analystKey}` })).status).toBe(200);
  });

  it('answers 401 and 403 on POST /v1/events the same way', async () => {
    const none = await fetch(`${base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="strata"');
    const revoked = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${revokedKey}` },
      body: '[]',
    });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const analyst = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${analystKey}` },
      body: '[]',
    });
    expect(analyst.status).toBe(403);
    expect(await analyst.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });
});

describe('the GraphQL status mapping', () => {
  const error = (code: string, path?: string) => ({ message: code, extensions: { code }, ...(path ? { path: [path] } : {}) });

  it('maps only answers without data whose every error is about credentials', () => {
    expect(authAnswer(null, [error('UNAUTHENTICATED')], false)).toEqual({ status: 401, wwwAuthenticate: 'Bearer realm="strata"' });
    expect(authAnswer(undefined, [error('UNAUTHENTICATED'), error('FORBIDDEN')], true)).toEqual({
      status: 401,
      wwwAuthenticate: 'Bearer realm="strata", error="invalid_token"',
    });
    expect(authAnswer({ a: null, b: null }, [error('FORBIDDEN', 'a'), error('FORBIDDEN', 'b')], true)).toEqual({ status: 403 });
    expect(authAnswer({ a: null, b: 1 }, [error('FORBIDDEN', 'a')], true)).toBeUndefined();
    expect(authAnswer({ a: null, b: null }, [error('FORBIDDEN', 'a')], true)).toBeUndefined();
    expect(authAnswer(null, [error('FORBIDDEN'), error('BAD_USER_INPUT')], true)).toBeUndefined();
    expect(authAnswer(null, [error('RATE_LIMITED')], true)).toBeUndefined();
    expect(authAnswer(null, [], true)).toBeUndefined();
  });
});

describe('STRATA_CORS_ORIGINS', () => {
  it('takes origins or *, and refuses anything that is not an origin', async () => {
    expect(parseCorsOrigins(undefined)).toEqual([]);
    expect(parseCorsOrigins('*')).toBe('*');
    expect(parseCorsOrigins(' https://bi.example.com , http://localhost:5173/ ')).toEqual(['https://bi.example.com', 'http://localhost:5173']);
    expect(() => parseCorsOrigins('bi.example.com')).toThrow(/not an origin/);
    expect(() => parseCorsOrigins('https://bi.example.com/app')).toThrow(/without path/);
    const { loadConfig } = await import('../api/config.ts');
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(() => loadConfig({ STRATA_CORS_ORIGINS: 'ftp://x.example' })).toThrow(/STRATA_CORS_ORIGINS/);
  });
});
