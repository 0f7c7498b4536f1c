import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { sql, type RawBuilder } from 'kysely';
import { createApp } from '../api/app.ts';
import { openDatabase } from '../store/database.ts';
import { lastCommonDataDate } from './support/data-dates.ts';
import type { TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import { graphqlClient, type GqlError, type GqlResponse } from './support/graphql-client.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

/**
 * The steward lifecycle of API.md ("Tag curation", "Access") end to end over HTTP:
 * drafts, optimistic versions, review by a second person, dependencies on published tags,
 * deprecation and archiving, the audit history, refusals that change nothing, previews
 * checked against plain SQL, and the `keys` CLI.
 */

const CUSTOMERS = 800;
const SEED = 7;
const REPO = fileURLToPath(new URL('..', import.meta.url));

const CREATE = `mutation Create($input: CreateTagInput!) { createTag(input: $input) { key version status updatedBy } }`;
const UPDATE = `mutation Update($key: String!, $v: Int!, $input: UpdateTagInput!) { updateTag(key: $key, expectedVersion: $v, input: $input) { key version status updatedBy } }`;
const SUBMIT = `mutation Submit($key: String!, $v: Int!) { submitTag(key: $key, expectedVersion: $v) { key version status } }`;
const APPROVE = `mutation Approve($key: String!, $v: Int!) { approveTag(key: $key, expectedVersion: $v) { key version status updatedBy } }`;
const REJECT = `mutation Reject($key: String!, $v: Int!, $reason: String!) { rejectTag(key: $key, expectedVersion: $v, reason: $reason) { key version status } }`;
const DEPRECATE = `mutation Deprecate($key: String!, $reason: String!) { deprecateTag(key: $key, reason: $reason) { key version status } }`;
const ARCHIVE = `mutation Archive($key: String!, $reason: String!) { archiveTag(key: $key, reason: $reason) { key version status } }`;
const HISTORY = `query History($key: String!) { tagHistory(key: $key) { version status actor action at diff reason } }`;
const CATALOG_TAGS = `{ catalog { tags { key kind status version valueType values } } }`;
const PREVIEW = `query Preview($rule: RuleInput) { tagPreview(rule: $rule) { asOf customers coverage values { value customers } } }`;
const MATERIALIZE = `mutation { materializeTags { asOf customers } }`;

interface HistoryEntry {
  version: number;
  status: string;
  actor: string;
  action: string;
  at: string;
  diff: { path: string; from: unknown; to: unknown }[];
  reason: string | null;
}
interface CatalogTag {
  key: string;
  kind: string;
  status: string;
  version: number;
  valueType: string;
  values: string[];
}

/** `not` nested `levels` times around one comparison. */
function nestedNot(levels: number): Record<string, unknown> {
  let rule: Record<string, unknown> = { dimension: 'customer.channel', op: 'EQ', values: ['app'] };
  for (let i = 0; i < levels; i += 1) rule = { not: rule };
  return rule;
}

/**
 * The `keys` CLI flow, run in child processes against a PGlite data folder. Each command
 * starts a fresh process and opens PGlite, which is slow, so the flow starts when the file
 * loads and runs beside the engine suites; its test below checks what it recorded.
 */
async function runKeysCli() {
  const exec = promisify(execFile);
  const dataDir = await mkdtemp(join(tmpdir(), 'strata-keys-'));
  const env: NodeJS.ProcessEnv = { ...process.env, STRATA_DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  const cli = async (...args: string[]) => (await exec('npx', ['tsx', 'api/cli.ts', ...args], { cwd: REPO, env, timeout: 240_000 })).stdout;
  /** Asks a server over the CLI's data folder for something only a key with a role may read. */
  const ask = async (token: string): Promise<GqlResponse> => {
    const database = await openDatabase({ dataDir });
    const app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 100_000, anonymousRole: null });
    try {
      const port = await app.listen(0);
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ catalog { metrics { name } } }' }),
      });
      return (await response.json()) as GqlResponse;
    } finally {
      await app.close();
      await database.close();
    }
  };
  try {
    await cli('migrate');
    const created = await cli(
      'keys',
      'create',
      '--role',
      'analyst',
      '--name',
      'x',
      '--clearance',
      'public',
      '--scope',
      '{"dimension":"customer.channel","op":"IN","values":["app"]}',
    );
    const token = created.trimEnd().split('\n').at(-1) ?? '';
    const allowed = await ask(token);
    const revoked = await cli('keys', 'revoke', 'x');
    const refusedAfter = await ask(token);
    return { created, allowed, revoked, refusedAfter };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
const keysCliFlow = runKeysCli().then(
  (value) => ({ value }),
  (error: unknown) => ({ error }),
);

await describeEachEngine('tag curation over HTTP on %s', (engine) => {
  type Key = 'stewardAna' | 'stewardBo' | 'approverCy' | 'approverDi' | 'admin' | 'appUi' | 'analyst' | 'operator';
  let server: DemoServer<Key>;
  let database: TestDatabase;
  let base: string;
  const keys = {} as DemoServer<Key>['keys'];

  beforeAll(async () => {
    server = await startDemoServer(engine, {
      customers: CUSTOMERS,
      seed: SEED,
      keys: {
        stewardAna: ['steward-ana', 'steward'],
        stewardBo: ['steward-bo', 'steward'],
        approverCy: ['approver-cy', 'approver'],
        approverDi: ['approver-di', 'approver'],
        admin: ['admin-root', 'admin'],
        appUi: ['app-ui', 'app'],
        analyst: ['analyst-ed', 'analyst'],
        operator: ['operator-op', 'operator'],
      },
    });
    ({ database, base } = server);
    Object.assign(keys, server.keys);
  });
  afterAll(() => server?.close());

  const { post, ok } = graphqlClient(() => base);
  /** The first error of a request that must fail, with no data for the failed field. */
  const refused = async (token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlError> => {
    const body = await post(token, query, variables);
    expect(body.errors?.length ?? 0, `expected an error, got ${JSON.stringify(body.data)}`).toBeGreaterThan(0);
    const error = body.errors?.[0] as GqlError;
    expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    expect(body.data ?? null).toBeNull();
    return error;
  };
  const history = async (key: string): Promise<HistoryEntry[]> => (await ok(keys.stewardAna, HISTORY, { key })).tagHistory as HistoryEntry[];
  const catalogTags = async (): Promise<Map<string, CatalogTag>> =>
    new Map(((await ok(keys.stewardAna, CATALOG_TAGS)).catalog.tags as CatalogTag[]).map((t) => [t.key, t]));
  /** Everything a curation request could change: every stored definition and the audit log size. */
  const platformState = async () => ({
    definitions: await database.db
      .selectFrom('strata.definitions')
      .select(['kind', 'key', 'version', 'status', 'body', 'updated_by'])
      .orderBy('kind')
      .orderBy('key')
      .execute(),
    auditRows: Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM strata.audit_log`.execute(database.db)).rows[0]?.n),
  });
  const count = async (statement: RawBuilder<{ n: number }>): Promise<number> => Number((await statement.execute(database.db)).rows[0]?.n);
  const create = (token: string, input: Record<string, unknown>) => ok(token, CREATE, { input });
  const publish = async (key: string, version: number) => {
    expect((await ok(keys.stewardAna, SUBMIT, { key, v: version })).submitTag.status).toBe('IN_REVIEW');
    expect((await ok(keys.approverCy, APPROVE, { key, v: version })).approveTag.status).toBe('PUBLISHED');
  };

  it('previews a dimension rule on a freshly loaded warehouse, matching a direct SQL count', async () => {
    // No materialization has run yet: a steward's first preview must still work.
    const rule = {
      and: [
        { dimension: 'customer.risk_level', op: 'IN', values: ['C4', 'C5'] },
        { dimension: 'customer.city_tier', op: 'LTE', values: ['2'] },
      ],
    };
    const expected = await count(sql<{ n: number }>`SELECT COUNT(*) AS n FROM wealth.customers WHERE risk_level IN ('C4', 'C5') AND city_tier <= 2`);
    expect(expected).toBeGreaterThan(0);
    const preview = (await ok(keys.stewardAna, PREVIEW, { rule })).tagPreview;
    expect(preview.customers).toBe(expected);
    expect(preview.coverage).toBeCloseTo(expected / CUSTOMERS, 9);
    const values = Object.fromEntries((preview.values as { value: string; customers: number }[]).map((v) => [v.value, v.customers]));
    expect(values).toEqual({ true: expected, false: CUSTOMERS - expected });
  });

  it('previews a rule over a tag and an aggregate, matching DOMAIN.md computed in SQL', async () => {
    const rule = {
      and: [
        { not: { tag: 'dormant_90d', op: 'EQ', values: ['true'] } },
        { aggregate: { measure: 'transaction.purchase_amount', window: { days: 365 } }, op: 'GT', values: ['1000'] },
      ],
    };
    const preview = (await ok(keys.analyst, PREVIEW, { rule })).tagPreview;
    expect(preview.asOf).toBe(await lastCommonDataDate(database.db));
    const asOf = preview.asOf as string;
    const expected = await count(sql<{ n: number }>`
      SELECT COUNT(*) AS n FROM wealth.customers c
      WHERE EXISTS (SELECT 1 FROM wealth.app_events e WHERE e.customer_id = c.customer_id
                      AND (e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN ${asOf}::date - 89 AND ${asOf}::date)
        AND (SELECT SUM(t.amount) FROM wealth.transactions t WHERE t.customer_id = c.customer_id
               AND t.txn_type = 'purchase' AND t.status = 'succeeded'
               AND (t.occurred_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN ${asOf}::date - 364 AND ${asOf}::date) > 1000`);
    expect(expected).toBeGreaterThan(0);
    expect(preview.customers).toBe(expected);
    expect(preview.coverage).toBeCloseTo(expected / CUSTOMERS, 9);
    const total = (preview.values as { customers: number }[]).reduce((sum, v) => sum + v.customers, 0);
    expect(total).toBe(CUSTOMERS);
    expect(preview.values).toContainEqual({ value: 'true', customers: expected });
  });

  it('runs the steward lifecycle: draft, versioned edits, four-eyes review, publication and its history', async () => {
    const started = Date.now();
    const rule = {
      and: [
        { dimension: 'customer.age_band', op: 'IN', values: ['18-24', '25-34'] },
        { tag: 'fund_buyer_30d', op: 'EQ', values: ['true'] },
      ],
    };
    const created = (await create(keys.stewardAna, { key: 'young_fund_buyer', kind: 'BOOLEAN', description: 'Young fund buyers', category: 'behaviour', rule }))
      .createTag;
    expect(created).toEqual({ key: 'young_fund_buyer', version: 1, status: 'DRAFT', updatedBy: 'steward-ana' });
    expect((await catalogTags()).get('young_fund_buyer')).toMatchObject({ status: 'DRAFT', version: 1, kind: 'BOOLEAN' });

    const newDescription = 'Customers aged 18-34 with a succeeded public fund purchase in the last 30 days.';
    const updated = (await ok(keys.stewardBo, UPDATE, { key: 'young_fund_buyer', v: 1, input: { description: newDescription } })).updateTag;
    expect(updated).toEqual({ key: 'young_fund_buyer', version: 2, status: 'DRAFT', updatedBy: 'steward-bo' });

    // A stale version is refused and changes nothing.
    const before = await platformState();
    const stale = await refused(keys.stewardAna, UPDATE, { key: 'young_fund_buyer', v: 1, input: { description: 'a stale edit' } });
    expect(stale.extensions?.code).toBe('CONFLICT');
    expect(stale.message).toMatch(/version 2/);
    expect(await platformState()).toEqual(before);

    expect((await ok(keys.admin, SUBMIT, { key: 'young_fund_buyer', v: 2 })).submitTag).toEqual({ key: 'young_fund_buyer', version: 2, status: 'IN_REVIEW' });

    // Four eyes: the submitter cannot approve, even with a role that may review.
    const selfApproval = await refused(keys.admin, APPROVE, { key: 'young_fund_buyer', v: 2 });
    expect(selfApproval.extensions?.code).toBe('FORBIDDEN');
    expect(selfApproval.message).toMatch(/admin-root/);
    // Approving a version that is not the one under review is a conflict.
    expect((await refused(keys.approverCy, APPROVE, { key: 'young_fund_buyer', v: 1 })).extensions?.code).toBe('CONFLICT');
    expect((await catalogTags()).get('young_fund_buyer')).toMatchObject({ status: 'IN_REVIEW', version: 2 });

    const approved = (await ok(keys.approverCy, APPROVE, { key: 'young_fund_buyer', v: 2 })).approveTag;
    expect(approved).toEqual({ key: 'young_fund_buyer', version: 2, status: 'PUBLISHED', updatedBy: 'approver-cy' });
    expect((await catalogTags()).get('young_fund_buyer')).toEqual({
      key: 'young_fund_buyer',
      kind: 'BOOLEAN',
      status: 'PUBLISHED',
      version: 2,
      valueType: 'boolean',
      values: ['true', 'false'],
    });

    const entries = await history('young_fund_buyer');
    expect(entries.map(({ version, status, actor, action }) => ({ version, status, actor, action }))).toEqual([
      { version: 1, status: 'DRAFT', actor: 'steward-ana', action: 'create' },
      { version: 2, status: 'DRAFT', actor: 'steward-bo', action: 'update' },
      { version: 2, status: 'IN_REVIEW', actor: 'admin-root', action: 'submit' },
      { version: 2, status: 'PUBLISHED', actor: 'approver-cy', action: 'approve' },
    ]);
    const times = entries.map((e) => Date.parse(e.at));
    for (const [i, time] of times.entries()) {
      expect(entries[i]?.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      expect(time).toBeGreaterThanOrEqual(started - 5_000);
      expect(time).toBeLessThanOrEqual(Date.now() + 5_000);
      if (i > 0) expect(time).toBeGreaterThanOrEqual(times[i - 1] as number);
    }
    const paths = entries.map((e) => e.diff.map((d) => d.path));
    expect(paths[0]).toEqual(expect.arrayContaining(['status', 'spec']));
    expect(entries[1]?.diff).toEqual([{ path: 'spec.description', from: 'Young fund buyers', to: newDescription }]);
    expect(entries[2]?.diff).toEqual([{ path: 'status', from: 'DRAFT', to: 'IN_REVIEW' }]);
    expect(entries[3]?.diff).toContainEqual({ path: 'status', from: 'IN_REVIEW', to: 'PUBLISHED' });
    expect(paths[3]?.some((p) => p.startsWith('published'))).toBe(true);
  });

  it('refuses an approver who created or updated the version under review, not only its submitter (observation 6)', async () => {
    const key = 'four_eyes_tag';
    const leaf = (channel: string) => ({ dimension: 'customer.channel', op: 'EQ', values: [channel] });
    await create(keys.admin, { key, kind: 'BOOLEAN', description: 'App customers', rule: leaf('app') });
    await ok(keys.admin, UPDATE, { key, v: 1, input: { description: 'Customers registered through the app' } });
    await ok(keys.stewardAna, SUBMIT, { key, v: 2 });

    const before = await platformState();
    const ownWork = await refused(keys.admin, APPROVE, { key, v: 2 });
    expect(ownWork.extensions?.code).toBe('FORBIDDEN');
    expect(ownWork.message).toMatch(/'admin-root' created and updated tag 'four_eyes_tag'/);
    expect(ownWork.message).toContain('steward-ana (submit)');
    expect(await platformState()).toEqual(before);
    expect((await ok(keys.approverDi, APPROVE, { key, v: 2 })).approveTag).toMatchObject({ version: 2, status: 'PUBLISHED', updatedBy: 'approver-di' });

    // An update after publication makes its author an author of the next version...
    await ok(keys.admin, UPDATE, { key, v: 2, input: { rule: leaf('web') } });
    await ok(keys.stewardBo, SUBMIT, { key, v: 3 });
    const updater = await refused(keys.admin, APPROVE, { key, v: 3 });
    expect(updater.extensions?.code).toBe('FORBIDDEN');
    expect(updater.message).toMatch(/'admin-root' updated tag/);
    expect(updater.message).not.toMatch(/created/);
    expect((await ok(keys.approverCy, APPROVE, { key, v: 3 })).approveTag.status).toBe('PUBLISHED');

    // ...while what someone authored before the last publication does not count against them.
    await ok(keys.stewardBo, UPDATE, { key, v: 3, input: { description: 'Web customers' } });
    await ok(keys.stewardAna, SUBMIT, { key, v: 4 });
    expect((await ok(keys.admin, APPROVE, { key, v: 4 })).approveTag).toMatchObject({ version: 4, status: 'PUBLISHED', updatedBy: 'admin-root' });
    expect((await history(key)).map((e) => `${e.version} ${e.action} ${e.actor}`)).toEqual([
      '1 create admin-root',
      '2 update admin-root',
      '2 submit steward-ana',
      '2 approve approver-di',
      '3 update admin-root',
      '3 submit steward-bo',
      '3 approve approver-cy',
      '4 update steward-bo',
      '4 submit steward-ana',
      '4 approve admin-root',
    ]);
  });

  it('rejects a tag under review back to draft, with the reason in its history', async () => {
    await create(keys.stewardAna, {
      key: 'web_customers',
      kind: 'BOOLEAN',
      description: 'Web customers',
      rule: { dimension: 'customer.channel', op: 'EQ', values: ['web'] },
    });
    // Rejecting a draft is not a valid transition.
    expect((await refused(keys.approverCy, REJECT, { key: 'web_customers', v: 1, reason: 'nope' })).extensions?.code).toBe('CONFLICT');
    await ok(keys.stewardAna, SUBMIT, { key: 'web_customers', v: 1 });
    const reason = 'A channel alone is not a behaviour; combine it with recent activity.';
    expect((await ok(keys.approverDi, REJECT, { key: 'web_customers', v: 1, reason })).rejectTag).toEqual({
      key: 'web_customers',
      version: 1,
      status: 'DRAFT',
    });
    expect((await catalogTags()).get('web_customers')).toMatchObject({ status: 'DRAFT', version: 1 });
    const last = (await history('web_customers')).at(-1);
    expect(last).toMatchObject({ action: 'reject', status: 'DRAFT', actor: 'approver-di', version: 1, reason });
    expect(last?.diff).toEqual([{ path: 'status', from: 'IN_REVIEW', to: 'DRAFT' }]);
    // The steward can rework it and submit again.
    const reworked = (
      await ok(keys.stewardAna, UPDATE, {
        key: 'web_customers',
        v: 1,
        input: {
          rule: {
            and: [
              { dimension: 'customer.channel', op: 'EQ', values: ['web'] },
              { tag: 'dormant_90d', op: 'EQ', values: ['false'] },
            ],
          },
        },
      })
    ).updateTag;
    expect(reworked).toMatchObject({ version: 2, status: 'DRAFT' });
    expect((await ok(keys.stewardAna, SUBMIT, { key: 'web_customers', v: 2 })).submitTag.status).toBe('IN_REVIEW');
  });

  it('publishes a tag only once the tags it reads are published; deprecates; refuses to archive a tag still read', async () => {
    await create(keys.stewardAna, {
      key: 'dep_base',
      kind: 'BOOLEAN',
      description: 'Large cities',
      rule: { dimension: 'customer.city_tier', op: 'LTE', values: ['2'] },
    });
    await create(keys.stewardAna, {
      key: 'dep_reader',
      kind: 'BOOLEAN',
      description: 'Verified large-city customers',
      rule: {
        and: [
          { tag: 'dep_base', op: 'EQ', values: ['true'] },
          { dimension: 'customer.kyc_completed', op: 'EQ', values: ['true'] },
        ],
      },
    });
    await ok(keys.stewardAna, SUBMIT, { key: 'dep_reader', v: 1 });
    const early = await refused(keys.approverCy, APPROVE, { key: 'dep_reader', v: 1 });
    expect(early.extensions?.code).toBeDefined();
    // The message must say what to change: dep_base exists, it is just not published yet.
    expect(early.message).toMatch(/dep_base/);
    expect.soft(early.message, 'the refusal should say dep_base is not published, not that it is unknown').toMatch(/DRAFT|publish/i);
    expect((await catalogTags()).get('dep_reader')).toMatchObject({ status: 'IN_REVIEW', version: 1 });

    await publish('dep_base', 1);
    expect((await ok(keys.approverCy, APPROVE, { key: 'dep_reader', v: 1 })).approveTag.status).toBe('PUBLISHED');

    const deprecated = (await ok(keys.approverDi, DEPRECATE, { key: 'dep_base', reason: 'use city_tier directly' })).deprecateTag;
    expect(deprecated).toEqual({ key: 'dep_base', version: 1, status: 'DEPRECATED' });
    expect((await catalogTags()).get('dep_base')).toMatchObject({ status: 'DEPRECATED' });
    expect((await history('dep_base')).at(-1)).toMatchObject({
      action: 'deprecate',
      status: 'DEPRECATED',
      actor: 'approver-di',
      reason: 'use city_tier directly',
    });

    const before = await platformState();
    const blocked = await refused(keys.approverDi, ARCHIVE, { key: 'dep_base', reason: 'retired' });
    expect(blocked.extensions?.code).toBe('CONFLICT');
    expect(blocked.message).toMatch(/dep_reader/);
    expect(await platformState()).toEqual(before);
    expect((await catalogTags()).get('dep_base')).toMatchObject({ status: 'DEPRECATED' });

    // Once no published tag reads it, it can be archived, and leaves the catalog.
    await ok(keys.approverDi, DEPRECATE, { key: 'dep_reader', reason: 'retired' });
    expect((await ok(keys.approverDi, ARCHIVE, { key: 'dep_reader', reason: 'retired' })).archiveTag.status).toBe('ARCHIVED');
    expect((await ok(keys.approverDi, ARCHIVE, { key: 'dep_base', reason: 'retired' })).archiveTag.status).toBe('ARCHIVED');
    const catalog = await catalogTags();
    expect(catalog.has('dep_base')).toBe(false);
    expect(catalog.has('dep_reader')).toBe(false);
    expect((await history('dep_base')).map((e) => e.action)).toEqual(['create', 'submit', 'approve', 'deprecate', 'archive']);
  });

  it('lists code-defined and steward-defined tags in the catalog', async () => {
    const catalog = await catalogTags();
    expect(catalog.get('aum_tier')).toEqual({
      key: 'aum_tier',
      kind: 'ENUM',
      status: 'PUBLISHED',
      version: 1,
      valueType: 'string',
      values: ['uhnw', 'hnw', 'affluent', 'mass'],
    });
    expect(catalog.get('fund_buyer_30d')).toMatchObject({ kind: 'BOOLEAN', status: 'PUBLISHED', valueType: 'boolean', values: ['true', 'false'] });
    expect(catalog.get('risk_level')).toMatchObject({ kind: 'ENUM', valueType: 'string', values: ['C1', 'C2', 'C3', 'C4', 'C5'] });
    for (const key of ['dormant_90d', 'new_customer_30d', 'preferred_product_type']) expect(catalog.get(key)?.status).toBe('PUBLISHED');
    expect(catalog.get('young_fund_buyer')).toMatchObject({ status: 'PUBLISHED', version: 2 });
    expect(catalog.get('web_customers')).toMatchObject({ status: 'IN_REVIEW', version: 2 });
  });

  it('refuses callers without credentials or with the wrong role, changing nothing', async () => {
    const before = await platformState();
    const input = { key: 'sneaky_tag', kind: 'BOOLEAN', description: 'x', rule: { dimension: 'customer.channel', op: 'EQ', values: ['app'] } };
    expect((await refused(null, CREATE, { input })).extensions?.code).toBe('UNAUTHENTICATED');
    expect((await refused('sk_not_a_real_key', CREATE, { input })).extensions?.code).toBe('UNAUTHENTICATED');
    expect((await refused(null, HISTORY, { key: 'young_fund_buyer' })).extensions?.code).toBe('UNAUTHENTICATED');
    expect((await refused(keys.appUi, CREATE, { input })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(keys.analyst, CREATE, { input })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(keys.operator, UPDATE, { key: 'web_customers', v: 2, input: { description: 'x' } })).extensions?.code).toBe('FORBIDDEN');
    // Stewards draft; only approvers review.
    expect((await refused(keys.stewardBo, APPROVE, { key: 'web_customers', v: 2 })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(keys.stewardBo, REJECT, { key: 'web_customers', v: 2, reason: 'x' })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(keys.appUi, DEPRECATE, { key: 'young_fund_buyer', reason: 'x' })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(keys.approverCy, CREATE, { input })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(keys.appUi, PREVIEW, { rule: input.rule })).extensions?.code).toBe('FORBIDDEN');
    expect(await platformState()).toEqual(before);
    expect((await catalogTags()).has('sneaky_tag')).toBe(false);
  });

  it('refuses bad rules with the path of the bad node, and unknown names as UNKNOWN_MEMBER, changing nothing', async () => {
    const before = await platformState();
    const attempt = async (rule: unknown, extra: Record<string, unknown> = {}) =>
      refused(keys.stewardAna, CREATE, { input: { key: 'bad_rule_tag', kind: 'BOOLEAN', description: 'bad', rule, ...extra } });
    const leaf = { dimension: 'customer.channel', op: 'EQ', values: ['app'] };

    const unknownOp = await attempt({ and: [leaf, { dimension: 'customer.age_band', op: 'LIKE', values: ['18-24'] }] });
    expect(unknownOp.extensions?.code).toBe('BAD_USER_INPUT');
    expect(unknownOp.message).toContain('rule.and[1].op');

    const missingValues = await attempt({ or: [leaf, { dimension: 'customer.age_band', op: 'IN' }] });
    expect(missingValues.extensions?.code).toBe('BAD_USER_INPUT');
    expect(missingValues.message).toContain('rule.or[1].values');

    const emptyValues = await attempt({ and: [leaf, { not: { dimension: 'customer.age_band', op: 'EQ', values: [] } }] });
    expect(emptyValues.extensions?.code).toBe('BAD_USER_INPUT');
    expect(emptyValues.message).toContain('rule.and[1].not.values');

    const mixed = await attempt({ not: { and: [leaf], dimension: 'customer.channel', op: 'EQ', values: ['web'] } });
    expect(mixed.extensions?.code).toBe('BAD_USER_INPUT');
    expect(mixed.message).toMatch(/rule\.not\b/);
    expect(mixed.message).toMatch(/and/);

    const tooDeep = await attempt(nestedNot(13));
    expect(tooDeep.extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooDeep.message).toMatch(/rule(\.not){13}/);

    const badCase = await refused(keys.stewardAna, CREATE, {
      input: {
        key: 'bad_rule_tag',
        kind: 'ENUM',
        description: 'bad',
        cases: [
          { value: 'a', rule: leaf },
          { value: 'b', rule: { and: [leaf, { dimension: 'customer.gender', op: 'IN' }] } },
        ],
        else: 'c',
      },
    });
    expect(badCase.extensions?.code).toBe('BAD_USER_INPUT');
    expect(badCase.message).toContain('cases[1].rule.and[1].values');

    const badValue = await attempt({ dimension: 'customer.city_tier', op: 'EQ', values: ['first'] });
    expect(badValue.extensions?.code).toBe('BAD_USER_INPUT');

    const unknownDimension = await attempt({ and: [leaf, { dimension: 'customer.age', op: 'EQ', values: ['18-24'] }] });
    expect(unknownDimension.extensions?.code).toBe('UNKNOWN_MEMBER');
    expect(unknownDimension.message).toContain('customer.age');
    const unknownTag = await attempt({ tag: 'fund_buyer_7d', op: 'EQ', values: ['true'] });
    expect(unknownTag.extensions?.code).toBe('UNKNOWN_MEMBER');
    expect(unknownTag.message).toContain('fund_buyer_7d');
    const unknownMeasure = await attempt({ aggregate: { measure: 'transaction.purchase_amt', window: { days: 30 } }, op: 'GT', values: ['0'] });
    expect(unknownMeasure.extensions?.code).toBe('UNKNOWN_MEMBER');
    expect(unknownMeasure.message).toContain('transaction.purchase_amt');

    // A bad edit to an existing draft is refused too, and the draft keeps its version.
    const badEdit = await refused(keys.stewardAna, UPDATE, { key: 'web_customers', v: 2, input: { rule: { dimension: 'customer.channel', op: 'IN' } } });
    expect(badEdit.extensions?.code).toBe('BAD_USER_INPUT');

    expect(await platformState()).toEqual(before);
    expect((await catalogTags()).has('bad_rule_tag')).toBe(false);
    expect(await history('bad_rule_tag')).toEqual([]);

    // The depth limit is a limit, not a ban on nesting: twelve levels are accepted.
    expect((await create(keys.stewardAna, { key: 'deep_but_fine', kind: 'BOOLEAN', description: 'deep', rule: nestedNot(12) })).createTag.status).toBe('DRAFT');
  });

  it('keeps code-defined tags out of reach of the API', async () => {
    const before = await platformState();
    const createCode = await refused(keys.stewardAna, CREATE, {
      input: { key: 'aum_tier', kind: 'BOOLEAN', description: 'hijack', rule: { dimension: 'customer.channel', op: 'EQ', values: ['app'] } },
    });
    expect(createCode.extensions?.code).toMatch(/^(CONFLICT|FORBIDDEN)$/);
    const deprecateCode = await refused(keys.approverCy, DEPRECATE, { key: 'aum_tier', reason: 'hijack' });
    expect(deprecateCode.extensions?.code).toMatch(/^(CONFLICT|FORBIDDEN)$/);
    expect((await refused(keys.approverCy, ARCHIVE, { key: 'fund_buyer_30d', reason: 'hijack' })).extensions?.code).toMatch(/^(CONFLICT|FORBIDDEN)$/);
    expect((await refused(keys.stewardAna, UPDATE, { key: 'aum_tier', v: 1, input: { description: 'hijack' } })).extensions?.code).toMatch(
      /^(CONFLICT|FORBIDDEN|NOT_FOUND)$/,
    );
    expect(await platformState()).toEqual(before);
    expect((await catalogTags()).get('aum_tier')).toMatchObject({ kind: 'ENUM', status: 'PUBLISHED', version: 1 });
  });

  it('keeps materialization working when a tag read by a deprecated (still served) tag is archived', async () => {
    await create(keys.stewardAna, {
      key: 'srv_base',
      kind: 'BOOLEAN',
      description: 'Tier 1 cities',
      rule: { dimension: 'customer.city_tier', op: 'EQ', values: ['1'] },
    });
    await create(keys.stewardAna, {
      key: 'srv_reader',
      kind: 'BOOLEAN',
      description: 'Tier 1 and active',
      rule: {
        and: [
          { tag: 'srv_base', op: 'EQ', values: ['true'] },
          { tag: 'dormant_90d', op: 'EQ', values: ['false'] },
        ],
      },
    });
    await publish('srv_base', 1);
    await publish('srv_reader', 1);
    await ok(keys.approverCy, DEPRECATE, { key: 'srv_reader', reason: 'being replaced' });
    await ok(keys.approverCy, DEPRECATE, { key: 'srv_base', reason: 'being replaced' });
    // srv_reader is deprecated but still served, and it reads srv_base: archiving srv_base
    // must either be refused or leave the platform able to compute profiles.
    const archive = await post(keys.approverCy, ARCHIVE, { key: 'srv_base', reason: 'gone' });
    if (archive.errors) expect(archive.errors[0]?.extensions?.code).toBe('CONFLICT');
    const run = await post(keys.operator, MATERIALIZE);
    expect(run.errors, JSON.stringify(run.errors)).toBeUndefined();
    expect(run.data?.materializeTags.customers).toBe(CUSTOMERS);
  });
});

describe('keys CLI', () => {
  it('creates a key printed alone on the last line, which authenticates until revoked', async () => {
    const outcome = await keysCliFlow;
    if ('error' in outcome) throw outcome.error;
    const { created, allowed, revoked, refusedAfter } = outcome.value;
    const lines = created.trimEnd().split('\n');
    const token = lines.at(-1) as string;
    expect(token).toMatch(/^\S{20,}$/);
    expect(lines.slice(0, -1).join('\n')).not.toContain(token);
    expect(lines.slice(0, -1).join('\n')).toContain(
      `'x' with role analyst, clearance public, scope {"dimension":"customer.channel","op":"IN","values":["app"]}`,
    );
    expect(allowed.errors, JSON.stringify(allowed.errors)).toBeUndefined();
    expect(allowed.data?.catalog.metrics.length).toBeGreaterThan(0);
    expect(revoked).toContain("'x'");
    expect(refusedAfter.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  }, 300_000);
});
