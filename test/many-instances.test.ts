import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../store/api-keys.ts';
import { seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { createTestDatabase, isPostgresReachable, type TestDatabase } from './support/engines.ts';
import { collectOutput, waitForExit, waitForOutput } from './support/child-process.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { createTag } from '../services/tag-curation.ts';
import type { TagSpec } from '../modeling/tags/define-tag.ts';

/**
 * Many API instances over one PostgreSQL database (README "Scale-out"): two `strata serve`
 * processes, and whatever one of them changes — an API key revoked, a tag published, a
 * materialized snapshot — the other serves from its next request, although it had cached
 * the key and the tag registry before. The instances run with STRATA_CHANGE_PROPAGATION_MS=0
 * (every request syncs with the feed); the default bound is covered by change-propagation.test.ts.
 * (PGlite is one process by construction: its data folder is locked by the server owning it.)
 */

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CUSTOMERS = 300;

interface Instance {
  readonly child: ChildProcess;
  readonly base: string;
  readonly output: () => string;
}

async function startInstance(databaseUrl: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/cli.ts', 'serve', '--port', '0'], {
    cwd: REPO,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      STRATA_RATE_DEFINITIONS: 'off',
      STRATA_RATE_ANALYTICS: 'off',
      STRATA_SQL_PORT: '0',
      STRATA_CHANGE_PROPAGATION_MS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child.stderr);
  try {
    const [, port] = await waitForOutput(child.stdout, /localhost:(\d+)\/graphql/);
    return { child, base: `http://127.0.0.1:${port}`, output };
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${output()}`);
  }
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.child.exitCode !== null) return;
  const exited = waitForExit(instance.child);
  instance.child.kill('SIGTERM');
  await exited;
}

const CATALOG_TAGS = `{ catalog { tags { key status version } } }`;
const REVOKE = `mutation Revoke($name: String!) { revokeApiKey(name: $name) { name revoked } }`;
const CREATE_TAG = `mutation Create($input: CreateTagInput!) { createTag(input: $input) { key version status } }`;
const SUBMIT = `mutation Submit($key: String!, $v: Int!) { submitTag(key: $key, expectedVersion: $v) { status } }`;
const APPROVE = `mutation Approve($key: String!, $v: Int!) { approveTag(key: $key, expectedVersion: $v) { status } }`;
const MATERIALIZE = `mutation { materializeTags { runId customers } }`;
const PROFILE = `query Profile($id: String!, $tag: String!) { customer(id: $id) { id tag(key: $tag) } }`;

describe.skipIf(!(await isPostgresReachable()))('two API instances on one PostgreSQL database', () => {
  let database: TestDatabase;
  let a: Instance | undefined;
  let b: Instance | undefined;
  const keys = {} as Record<'admin' | 'steward' | 'approver' | 'app' | 'analyst', string>;
  const onA = graphqlClient(() => a?.base ?? '');
  const onB = graphqlClient(() => b?.base ?? '');

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    await seedDemoData(database, { customers: CUSTOMERS, seed: 11 });
    keys.admin = await createApiKey(database.db, 'admin-root', 'admin');
    keys.steward = await createApiKey(database.db, 'steward-ana', 'steward');
    keys.approver = await createApiKey(database.db, 'approver-cy', 'approver');
    keys.app = await createApiKey(database.db, 'app-ui', 'app');
    keys.analyst = await createApiKey(database.db, 'analyst-ed', 'analyst');
    const url = database.url as string;
    [a, b] = await Promise.all([startInstance(url), startInstance(url)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([stopInstance(a), stopInstance(b)]);
    await database?.dispose();
  });

  it('refuses on B, from its next request, a key revoked on A that B had just accepted (and cached)', async () => {
    expect((await onB.ok(keys.analyst, CATALOG_TAGS)).catalog.tags.length).toBeGreaterThan(0);
    expect((await onA.ok(keys.admin, REVOKE, { name: 'analyst-ed' })).revokeApiKey).toEqual({ name: 'analyst-ed', revoked: true });
    const refused = await onB.post(keys.analyst, CATALOG_TAGS);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(refused.data ?? null).toBeNull();
  });

  it('serves on B, from its next request, a tag drafted and published on A, and the snapshot A materialized', async () => {
    const key = 'scale_out_app_users';
    const tagsOnB = async () =>
      new Map(((await onB.ok(keys.steward, CATALOG_TAGS)).catalog.tags as { key: string; status: string; version: number }[]).map((t) => [t.key, t]));
    // B loads (and caches) its registry before the tag exists.
    expect((await tagsOnB()).has(key)).toBe(false);
    const created = await onA.ok(keys.steward, CREATE_TAG, {
      input: {
        key,
        kind: 'BOOLEAN',
        description: 'Customers who came through the app',
        category: 'channel',
        rule: { dimension: 'customer.channel', op: 'IN', values: ['app'] },
      },
    });
    expect(created.createTag).toEqual({ key, version: 1, status: 'DRAFT' });
    expect((await tagsOnB()).get(key)).toEqual({ key, status: 'DRAFT', version: 1 });
    await onA.ok(keys.steward, SUBMIT, { key, v: 1 });
    expect((await tagsOnB()).get(key)?.status).toBe('IN_REVIEW');
    expect((await onA.ok(keys.approver, APPROVE, { key, v: 1 })).approveTag.status).toBe('PUBLISHED');
    expect((await tagsOnB()).get(key)?.status).toBe('PUBLISHED');

    // A profile on B has no value for the tag until A materializes; then B serves the new snapshot.
    const customer = (
      await database.db.selectFrom('wealth.customers').select(['customer_id', 'channel']).where('channel', '=', 'app').limit(1).executeTakeFirstOrThrow()
    ).customer_id;
    const before = (await onB.ok(keys.app, PROFILE, { id: customer, tag: key })).customer;
    expect(before === null || before.tag === null).toBe(true);
    const run = (await onA.ok(keys.admin, MATERIALIZE)).materializeTags;
    expect(run.customers).toBe(CUSTOMERS);
    expect((await onB.ok(keys.app, PROFILE, { id: customer, tag: key })).customer).toEqual({ id: customer, tag: true });
    expect(a?.output()).not.toMatch(/"level":(50|60)/);
    expect(b?.output()).not.toMatch(/"level":(50|60)/);
  });
});

/**
 * The polling fallback: while the change feed is down (or without one), the tag registry an
 * instance caches is reloaded every 2 s, so a change made elsewhere is still served soon.
 */
await describeEachEngine('tag registry without a live change feed on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(() => database?.dispose());

  it('keeps the cached registry for 2 s, then reloads it', async () => {
    const down: ChangeFeed = {
      subscribe: () => () => undefined,
      notify: async () => undefined,
      live: false,
      sync: async () => false,
      close: async () => undefined,
    };
    const domain = bundledDomain();
    const runtime = createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.subject), domain.tags, undefined, down);
    let now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      expect((await runtime.registry()).current.has('polled_tag')).toBe(false);
      await createTag({ db: database.db, subject: runtime.subject, codeTags: domain.tags, actor: 'steward-elsewhere' }, {
        key: 'polled_tag',
        kind: 'BOOLEAN',
        description: 'A tag made by another instance',
        rule: { dimension: 'customer.channel', op: 'IN', values: ['app'] },
      } as TagSpec);
      now += 1_000;
      expect((await runtime.registry()).current.has('polled_tag')).toBe(false);
      now += 1_500;
      expect((await runtime.registry()).current.get('polled_tag')?.status).toBe('DRAFT');
    } finally {
      clock.mockRestore();
      runtime.close();
    }
  });
});
