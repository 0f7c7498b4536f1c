import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { createApp, type App, type AppConfig } from '../api/app.ts';
import { demoKeysBanner, renewDemoKeys } from '../api/demo-keys.ts';
import { createApiKey } from '../store/api-keys.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { graphqlClient, type GqlError } from './support/graphql-client.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

/**
 * API keys over HTTP (API.md "Access"): createApiKey and revokeApiKey for admins only,
 * clearance that may only be lowered, row-level scopes checked against the catalog,
 * revocation that a second server instance honours on its very next request (with
 * STRATA_CHANGE_PROPAGATION_MS=0; within the bound otherwise), the
 * throttle of failed authentications, and the demo keys `npm start` prints.
 */

const CREATE = `mutation Create($input: CreateApiKeyInput!) { createApiKey(input: $input) { name role clearance scope token } }`;
const REVOKE = `mutation Revoke($name: String!) { revokeApiKey(name: $name) { name revoked revokedAt } }`;
const VIEWER = `{ viewer { name role clearance scope via } }`;
const CATALOG = `{ catalog { metrics { name } } }`;
const CHANNEL_SCOPE = { dimension: 'customer.channel', op: 'IN', values: ['app', 'web'] };

const serve = async (database: Database, extra: Partial<AppConfig> = {}) => {
  const app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 100_000, anonymousRole: null, authFailureLimit: 0, ...extra });
  return { app, base: `http://127.0.0.1:${await app.listen(0)}` };
};

await describeEachEngine('API keys on %s', (engine) => {
  let database: TestDatabase;
  /** A second database handle over the same data (PostgreSQL: its own pool and LISTEN connection). */
  let second: Database;
  let apps: App[] = [];
  let base = '';
  let secondBase = '';
  const tokens = { admin: '', steward: '' };

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    second = engine === 'postgres' ? await openDatabase({ databaseUrl: database.url, poolSize: 2 }) : database;
    // The second instance syncs with the feed on every request (bound 0): revocation on its very next
    // request; the default bound is covered by change-propagation.test.ts.
    const [one, two] = [await serve(database), await serve(second, { changePropagationMs: 0 })];
    apps = [one.app, two.app];
    [base, secondBase] = [one.base, two.base];
    tokens.admin = await createApiKey(database.db, 'root-admin', 'admin');
    tokens.steward = await createApiKey(database.db, 'steward-sue', 'steward');
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    if (second !== database) await second?.close();
    await database?.dispose();
  });

  const first = graphqlClient(() => base);
  const other = graphqlClient(() => secondBase);
  const { ok, post } = first;
  /** A refused request: its code, and no data at all. */
  const refused = async (token: string | null, query: string, variables?: Record<string, unknown>, client = first): Promise<GqlError> => {
    const body = await client.post(token, query, variables);
    expect(body.data ?? null, JSON.stringify(body.data)).toBeNull();
    return body.errors?.[0] as GqlError;
  };
  const keyNames = async () => (await database.db.selectFrom('strata.api_keys').select('name').orderBy('name').execute()).map((r) => r.name);

  it('lets an admin create a key whose token works at once and is shown once', async () => {
    const created = (await ok(tokens.admin, CREATE, { input: { name: 'analyst-amy', role: 'analyst' } })).createApiKey;
    expect(created).toMatchObject({ name: 'analyst-amy', role: 'analyst', clearance: 'internal', scope: null });
    expect(created.token).toMatch(/^sk_[A-Za-z0-9_-]{32}$/);
    expect((await ok(created.token, VIEWER)).viewer).toEqual({ name: 'analyst-amy', role: 'analyst', clearance: 'internal', scope: null, via: 'KEY' });
    expect((await other.ok(created.token, CATALOG)).catalog.metrics.length).toBeGreaterThan(0);
    const stored = await database.db.selectFrom('strata.api_keys').selectAll().where('name', '=', 'analyst-amy').executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(created.token);
    expect(stored.created_by).toBe('root-admin');
  });

  it('refuses key management to other roles (FORBIDDEN) and to anonymous callers (UNAUTHENTICATED), creating nothing', async () => {
    const before = await keyNames();
    expect((await refused(tokens.steward, CREATE, { input: { name: 'sneaky', role: 'admin' } })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(null, CREATE, { input: { name: 'sneaky', role: 'admin' } })).extensions?.code).toBe('UNAUTHENTICATED');
    expect((await refused(tokens.steward, REVOKE, { name: 'root-admin' })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(null, REVOKE, { name: 'root-admin' })).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await keyNames()).toEqual(before);
    expect((await ok(tokens.admin, VIEWER)).viewer.name).toBe('root-admin');
  });

  it('refuses bad names, unknown roles and taken names with coded errors', async () => {
    const before = await keyNames();
    expect((await refused(tokens.admin, CREATE, { input: { name: 'has space', role: 'analyst' } })).extensions?.code).toBe('BAD_USER_INPUT');
    const role = await refused(tokens.admin, CREATE, { input: { name: 'odd-role', role: 'superuser' } });
    expect(role.extensions?.code).toBe('BAD_USER_INPUT');
    expect(role.message).toContain('analyst, app, steward, approver, operator, admin');
    expect((await refused(tokens.admin, CREATE, { input: { name: 'steward-sue', role: 'analyst' } })).extensions?.code).toBe('CONFLICT');
    expect(await keyNames()).toEqual(before);
  });

  it('lets a clearance lower the role default and refuses raising it', async () => {
    const lowered = (await ok(tokens.admin, CREATE, { input: { name: 'app-public', role: 'app', clearance: 'public' } })).createApiKey;
    expect(lowered.clearance).toBe('public');
    expect((await ok(lowered.token, VIEWER)).viewer.clearance).toBe('public');
    const raised = await refused(tokens.admin, CREATE, { input: { name: 'analyst-raised', role: 'analyst', clearance: 'personal' } });
    expect(raised.extensions?.code).toBe('BAD_USER_INPUT');
    expect(raised.message).toContain("above the analyst role's clearance 'internal'");
    expect((await refused(tokens.admin, CREATE, { input: { name: 'analyst-odd', role: 'analyst', clearance: 'secret' } })).extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    expect(await keyNames()).not.toContain('analyst-raised');
  });

  it('keeps what an admin grants within its own clearance and scope', async () => {
    const scopedAdmin = (await ok(tokens.admin, CREATE, { input: { name: 'branch-admin', role: 'admin', clearance: 'internal', scope: CHANNEL_SCOPE } }))
      .createApiKey;
    const beyond = await refused(scopedAdmin.token, CREATE, { input: { name: 'app-personal', role: 'app', clearance: 'personal' } });
    expect(beyond.extensions?.code).toBe('FORBIDDEN');
    const within = (
      await ok(scopedAdmin.token, CREATE, { input: { name: 'branch-app', role: 'app', scope: { tag: 'dormant_90d', op: 'EQ', values: ['true'] } } })
    ).createApiKey;
    expect(within.clearance).toBe('internal');
    expect(within.scope).toEqual({ and: [CHANNEL_SCOPE, { tag: 'dormant_90d', op: 'EQ', values: ['true'] }] });
  });

  it('stores a scope over customer dimensions and published tags, and the key carries it', async () => {
    const scope = { and: [CHANNEL_SCOPE, { not: { tag: 'dormant_90d', op: 'EQ', values: ['true'] } }] };
    const created = (await ok(tokens.admin, CREATE, { input: { name: 'scoped-analyst', role: 'analyst', scope } })).createApiKey;
    expect(created.scope).toEqual(scope);
    expect((await other.ok(created.token, VIEWER)).viewer.scope).toEqual(scope);
  });

  it('refuses scopes with aggregates, unknown or foreign dimensions, unknown tags and bad values', async () => {
    const before = await keyNames();
    const attempt = (name: string, scope: unknown) => refused(tokens.admin, CREATE, { input: { name, role: 'analyst', scope } });
    const aggregate = await attempt('agg', { aggregate: { measure: 'transaction.purchase_amount', window: { days: 30 } }, op: 'GT', values: ['0'] });
    expect(aggregate.extensions?.code).toBe('BAD_USER_INPUT');
    expect(aggregate.message).toContain('not aggregates');
    const unknown = await attempt('unknown-dim', { dimension: 'customer.favourite_colour', op: 'EQ', values: ['red'] });
    expect(unknown.extensions?.code).toBe('UNKNOWN_MEMBER');
    expect((await attempt('foreign-dim', { dimension: 'transaction.channel', op: 'EQ', values: ['app'] })).extensions?.code).toBe('UNKNOWN_MEMBER');
    expect((await attempt('unknown-tag', { tag: 'no_such_tag', op: 'EQ', values: ['true'] })).extensions?.code).toBe('UNKNOWN_MEMBER');
    expect((await attempt('bad-value', { dimension: 'customer.city_tier', op: 'EQ', values: ['first'] })).extensions?.code).toBe('BAD_USER_INPUT');
    expect(await keyNames()).toEqual(before);
  });

  it('refuses a revoked key on the very next request, on this instance and on a second one that had it cached', async () => {
    await vi.waitFor(() => expect(second.changes.live).toBe(true), { timeout: 15_000 });
    const created = (await ok(tokens.admin, CREATE, { input: { name: 'soon-revoked', role: 'analyst' } })).createApiKey;
    expect((await other.ok(created.token, CATALOG)).catalog.metrics.length).toBeGreaterThan(0);
    expect((await ok(created.token, CATALOG)).catalog.metrics.length).toBeGreaterThan(0);
    const revoked = (await ok(tokens.admin, REVOKE, { name: 'soon-revoked' })).revokeApiKey;
    expect(revoked).toMatchObject({ name: 'soon-revoked', revoked: true, revokedAt: expect.any(String) });
    expect((await refused(created.token, CATALOG, undefined, other)).extensions?.code).toBe('UNAUTHENTICATED');
    expect((await refused(created.token, CATALOG)).extensions?.code).toBe('UNAUTHENTICATED');
    expect((await ok(tokens.admin, REVOKE, { name: 'soon-revoked' })).revokeApiKey.revoked).toBe(false);
    expect((await refused(tokens.admin, REVOKE, { name: 'never-issued' })).extensions?.code).toBe('NOT_FOUND');
  });

  it.runIf(engine === 'postgres')('keeps revocation immediate after the LISTEN connection is cut and comes back', async () => {
    const created = (await ok(tokens.admin, CREATE, { input: { name: 'survives-reconnect', role: 'analyst' } })).createApiKey;
    const listeners = async () =>
      (
        await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
      WHERE application_name = 'strata-change-feed' AND datname = current_database()`.execute(database.db)
      ).rows.map((r) => r.pid);
    const before = await listeners();
    expect(before.length).toBe(2);
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'strata-change-feed' AND datname = current_database()`.execute(
      database.db,
    );
    await vi.waitFor(
      async () => {
        const now = await listeners();
        expect(now.length).toBe(2);
        expect(now.filter((pid) => before.includes(pid))).toEqual([]);
        expect(second.changes.live && database.changes.live).toBe(true);
      },
      { timeout: 30_000, interval: 100 },
    );
    expect((await other.ok(created.token, CATALOG)).catalog.metrics.length).toBeGreaterThan(0);
    await ok(tokens.admin, REVOKE, { name: 'survives-reconnect' });
    expect((await refused(created.token, CATALOG, undefined, other)).extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('throttles an address after too many failed authentications, even its valid keys, without touching other routes', async () => {
    const { app, base: throttledBase } = await serve(database, { authFailureLimit: 3, authFailureWindowSeconds: 3600 });
    apps.push(app);
    const throttled = graphqlClient(() => throttledBase);
    for (const wrong of ['sk_wrong1', 'sk_wrong2', 'not-a-key']) {
      expect((await refused(wrong, CATALOG, undefined, throttled)).extensions?.code).toBe('UNAUTHENTICATED');
    }
    const limited = await refused(tokens.admin, CATALOG, undefined, throttled);
    expect(limited.extensions?.code).toBe('RATE_LIMITED');
    expect(limited.extensions?.retryAfter).toBeGreaterThan(0);
    expect(limited.extensions?.retryAfter).toBeLessThanOrEqual(3600);
    const events = await fetch(`${throttledBase}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
      body: '[]',
    });
    expect(events.status).toBe(429);
    expect(Number(events.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await events.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect((await throttled.ok(null, '{ version }')).version).toEqual(expect.any(String));
    expect((await ok(tokens.admin, VIEWER)).viewer.name).toBe('root-admin');
  });

  it('renews the demo keys on every start: fresh secrets, old ones refused, none left behind', async () => {
    const firstRun = await renewDemoKeys(database);
    const secondRun = await renewDemoKeys(database);
    expect(secondRun.map((k) => [k.name, k.role])).toEqual([
      ['demo-admin', 'admin'],
      ['demo-analyst', 'analyst'],
      ['demo-app', 'app'],
    ]);
    for (const [i, key] of secondRun.entries()) {
      expect(key.token).not.toBe(firstRun[i]?.token);
      expect((await refused(firstRun[i]?.token ?? '', VIEWER, undefined, other)).extensions?.code).toBe('UNAUTHENTICATED');
      expect((await other.ok(key.token, VIEWER)).viewer).toMatchObject({ name: key.name, role: key.role });
    }
    expect((await keyNames()).filter((name) => name.startsWith('demo-'))).toEqual(['demo-admin', 'demo-analyst', 'demo-app']);
    const banner = demoKeysBanner(secondRun, 4321);
    for (const key of secondRun) expect(banner).toContain(key.token);
    expect(banner).toContain(`curl -s http://localhost:4321/graphql`);
    expect(await post(null, VIEWER)).toMatchObject({ data: null, errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });
});
