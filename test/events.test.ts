import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Transaction } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { createApp, type App } from '../api/app.ts';
import { createApiKey } from '../store/api-keys.ts';
import { loadConfig } from '../api/config.ts';
import { createTestDatabase, testEngines, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { ingestEvents, type IngestOutcome } from '../store/event-store.ts';
import type { ValidEvent } from '../modeling/events/validate-event.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEventsRoute } from '../api/events-route.ts';
import { StrataError } from '../modeling/errors.ts';
import type { EventCollector } from '../store/event-collector.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

interface TrackResult {
  accepted: number;
  duplicates: number;
  quarantined: number;
  rejected: { index: number; code: string; message: string }[];
}

const HOUR = 3_600_000;
const TRACK = `mutation Track($events: [TrackEventInput!]!) {
  trackEvents(events: $events) { accepted duplicates quarantined rejected { index code message } } }`;

let sequence = 0;
/** A valid event with a fresh id; `overrides` replace envelope fields. */
function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  sequence += 1;
  return {
    eventId: `evt-${sequence}-${Math.random().toString(36).slice(2, 8)}`,
    name: 'placement_click',
    customerId: `c-${sequence}`,
    occurredAt: new Date(Date.now() - HOUR).toISOString(),
    channel: 'app',
    placementId: 'home_banner',
    properties: { content_id: 'fund-a', position: 0 },
    ...overrides,
  };
}

await describeEachEngine('behaviour event collection on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let quarantining: App;
  let base: string;
  let quarantineBase: string;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 512 * 1024, anonymousRole: 'app' });
    base = `http://127.0.0.1:${await app.listen(0)}`;
    quarantining = await createApp(database, bundledDomain(), {
      dev: false,
      maxBodyBytes: 512 * 1024,
      anonymousRole: 'app',
      quarantineUndeclaredEvents: true,
      eventMaxPastDays: 1,
    });
    quarantineBase = `http://127.0.0.1:${await quarantining.listen(0)}`;
  });
  afterAll(async () => {
    await app.close();
    await quarantining.close();
    await database.dispose();
  });

  const post = async (events: unknown, at = base): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${at}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    return { status: response.status, body: await response.json() };
  };
  const graphql = async (events: unknown, at = base): Promise<any> => {
    const response = await fetch(`${at}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: TRACK, variables: { events } }),
    });
    return response.json();
  };
  const track = async (events: unknown, at = base): Promise<TrackResult> => {
    const body = await graphql(events, at);
    expect(body.errors).toBeUndefined();
    return body.data.trackEvents as TrackResult;
  };
  const storedIds = async (ids: readonly unknown[]): Promise<string[]> => {
    const rows = await database.db
      .selectFrom('wealth.app_events')
      .select('event_id')
      .where('event_id', 'in', ids as string[])
      .execute();
    return rows.map((r) => r.event_id).sort();
  };
  const idsOf = (events: readonly Record<string, unknown>[]) => events.map((e) => e.eventId as string);

  it('stores events sent through the trackEvents mutation, committed before the answer', async () => {
    const sent = [
      event({ occurredAt: new Date(Date.now() - HOUR).toISOString().replace('Z', '+00:00') }),
      event({ name: 'purchase_submit', placementId: null, productId: 'fund-a', properties: { amount: 1234.56 } }),
      event({ name: 'app_open', customerId: null, anonymousId: 'device-1', placementId: undefined, properties: undefined }),
    ];
    expect(await track(sent)).toEqual({ accepted: 3, duplicates: 0, quarantined: 0, rejected: [] });
    expect(await storedIds(idsOf(sent))).toEqual(idsOf(sent).sort());
    const purchase = await database.db
      .selectFrom('wealth.app_events')
      .selectAll()
      .where('event_id', '=', sent[1]!.eventId as string)
      .executeTakeFirstOrThrow();
    expect(purchase).toMatchObject({
      event_name: 'purchase_submit',
      product_id: 'fund-a',
      placement_id: null,
      channel: 'app',
      properties: { amount: 1234.56 },
    });
  });

  it('stores events sent to POST /v1/events and stores occurredAt in UTC', async () => {
    const sent = [event({ occurredAt: new Date(Date.now() - 2 * HOUR).toISOString().replace(/\.\d+Z$/, '+08:00') })];
    const expectedInstant = new Date(sent[0]!.occurredAt as string).getTime();
    const response = await post(sent);
    expect(response).toEqual({ status: 200, body: { accepted: 1, duplicates: 0, quarantined: 0, rejected: [] } });
    const { rows } = await sql<{ utc: string }>`
      select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') as utc
      from wealth.app_events where event_id = ${sent[0]!.eventId as string}`.execute(database.db);
    expect(rows[0]?.utc).toBe(new Date(expectedInstant).toISOString().slice(0, 19));
  });

  it('counts an eventId repeated within a batch once, and the repeats as duplicates', async () => {
    const first = event();
    const second = event();
    const result = await post([first, { ...first, customerId: 'someone-else' }, second, first]);
    expect(result.body).toEqual({ accepted: 2, duplicates: 2, quarantined: 0, rejected: [] });
    expect(await storedIds(idsOf([first, second]))).toEqual(idsOf([first, second]).sort());
  });

  it('accepts a retried batch as duplicates on either endpoint; the first write wins', async () => {
    const batch = [event(), event(), event()];
    expect((await post(batch)).body).toMatchObject({ accepted: 3, duplicates: 0 });
    expect(await track(batch)).toMatchObject({ accepted: 0, duplicates: 3 });
    const changed: Record<string, unknown> = { ...batch[0]!, customerId: 'c-changed', properties: { content_id: 'other' } };
    expect((await post([changed])).body).toMatchObject({ accepted: 0, duplicates: 1 });
    const row = await database.db
      .selectFrom('wealth.app_events')
      .selectAll()
      .where('event_id', '=', changed.eventId as string)
      .executeTakeFirstOrThrow();
    expect(row.customer_id).toBe(batch[0]!.customerId);
    expect(row.properties).toEqual(batch[0]!.properties);
  });

  it('stores each event once when identical and reversed retries race', async () => {
    const batch = Array.from({ length: 1000 }, () => event());
    const reversed = [...batch].reverse();
    const results: TrackResult[] = await Promise.all([
      post(batch).then((r) => r.body),
      post(reversed).then((r) => r.body),
      track(batch),
      track(reversed),
      post(batch).then((r) => r.body),
      post(reversed).then((r) => r.body),
    ]);
    expect(results.reduce((sum, r) => sum + r.accepted, 0)).toBe(1000);
    expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(5 * 1000);
    expect((await storedIds(idsOf(batch))).length).toBe(1000);
  });

  it('keeps the valid events of a batch and lists the rejected ones by index', async () => {
    const good = [event(), event({ name: 'page_view', placementId: null, page: 'home', properties: {} })];
    const batch = [
      good[0]!,
      event({ name: 'placement_click', placementId: null }),
      event({ occurredAt: new Date(Date.now() + HOUR).toISOString() }),
      good[1]!,
      event({ channel: 'fax' }),
      event({ name: 'purchase_submit', placementId: null, productId: 'fund-a', properties: { amount: 'lots' } }),
      event({ name: 'wishlist_add' }),
    ];
    const result = await post(batch);
    expect(result.status).toBe(200);
    expect(result.body.accepted).toBe(2);
    expect(result.body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [1, 'MISSING_FIELD'],
      [2, 'TIMESTAMP_OUT_OF_RANGE'],
      [4, 'INVALID_FIELD'],
      [5, 'INVALID_PROPERTY'],
      [6, 'UNKNOWN_EVENT'],
    ]);
    expect(await storedIds(idsOf(batch))).toEqual(idsOf(good).sort());
    const viaGraphql = await track(batch.map((e) => ({ ...e, eventId: `${String(e.eventId)}-gql` })));
    expect(viaGraphql).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(viaGraphql.rejected.map((r) => r.index)).toEqual([1, 2, 4, 5, 6]);
  });

  it('refuses a batch over 1,000 events as a whole, and bodies that are too large or malformed', async () => {
    const batch = Array.from({ length: 1001 }, () => event({ properties: {} }));
    const rest = await post(batch);
    expect(rest.status).toBe(413);
    expect(rest.body.error).toEqual({ code: 'BAD_USER_INPUT', message: 'a batch holds at most 1000 events; got 1001' });
    const viaGraphql = await graphql(batch);
    expect(viaGraphql.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    // Refused before execution by the per-request list budget: no data entry at all.
    expect(viaGraphql.data ?? null).toBeNull();
    expect(viaGraphql.errors[0].message).toMatch(/1,001 events .* at most 1,000/);
    expect(await storedIds(idsOf(batch))).toEqual([]);

    const tooBig = await fetch(`${base}/v1/events`, { method: 'POST', body: `[${'"x",'.repeat(150_000)}"x"]` });
    expect(tooBig.status).toBe(413);
    const malformed = await fetch(`${base}/v1/events`, { method: 'POST', body: '[{"eventId":' });
    expect([malformed.status, ((await malformed.json()) as any).error.code]).toEqual([400, 'BAD_USER_INPUT']);
    expect((await post({ events: [] })).status).toBe(400);
    expect((await fetch(`${base}/v1/events`)).status).toBe(405);
  });

  it('rejects undeclared events unless quarantine is on, then keeps them once for stewards, values pseudonymized', async () => {
    const undeclared = event({ name: 'wishlist_add', properties: { fund: 'fund-only-this-customer-knows', note: null } });
    expect((await post([undeclared])).body.rejected).toEqual([{ index: 0, code: 'UNKNOWN_EVENT', message: "no event named 'wishlist_add' is defined" }]);
    const quarantined = () =>
      database.db
        .selectFrom('strata.event_quarantine')
        .selectAll()
        .where('event_id', '=', undeclared.eventId as string)
        .execute();
    expect(await quarantined()).toEqual([]);

    expect((await post([undeclared], quarantineBase)).body).toEqual({ accepted: 0, duplicates: 0, quarantined: 1, rejected: [] });
    expect(await track([undeclared], quarantineBase)).toEqual({ accepted: 0, duplicates: 1, quarantined: 0, rejected: [] });
    const rows = await quarantined();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event_name: 'wishlist_add', reason: "no event named 'wishlist_add' is defined" });
    // An undeclared event cannot be classified: its property names stay, every value becomes a pseudonym.
    expect(rows[0]!.raw).toEqual({ ...undeclared, properties: { fund: expect.stringMatching(/^hmac:v1:[\w-]{43}$/), note: null } });
    expect(JSON.stringify(rows[0])).not.toContain('fund-only-this-customer-knows');
    expect(await storedIds([undeclared.eventId])).toEqual([]);
  });

  it('applies the configured timestamp bounds', async () => {
    const twoDaysOld = event({ occurredAt: new Date(Date.now() - 48 * HOUR).toISOString() });
    expect((await post([twoDaysOld], quarantineBase)).body.rejected[0]).toMatchObject({ code: 'TIMESTAMP_OUT_OF_RANGE' });
    expect((await post([twoDaysOld], base)).body.accepted).toBe(1);
  });

  it('refuses callers whose role may not track events, on both endpoints', async () => {
    const sent = [event()];
    for (const [anonymousRole, status, code] of [
      ['analyst', 403, 'FORBIDDEN'],
      [null, 401, 'UNAUTHENTICATED'],
    ] as const) {
      const guarded = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 64 * 1024, anonymousRole });
      const at = `http://127.0.0.1:${await guarded.listen(0)}`;
      try {
        const rest = await post(sent, at);
        expect([rest.status, rest.body.error.code]).toEqual([status, code]);
        expect((await graphql(sent, at)).errors[0].extensions.code).toBe(code);
      } finally {
        await guarded.close();
      }
    }
    expect(await storedIds(idsOf(sent))).toEqual([]);
  });

  it('raises the active customers of the period right after ingestion', async () => {
    const from = new Date(Date.now() - 6 * HOUR);
    const to = new Date(Date.now() + HOUR);
    // An operator is cleared for personal data: sub-day ranges and counts of a few customers are theirs to see.
    const operator = await createApiKey(database.db, `operator-${Date.now()}`, 'operator');
    // The governed metric, through the API: what a dashboard would show.
    const activeCustomers = async () => {
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${operator}` },
        body: JSON.stringify({
          query: 'query($from: String!, $to: String!) { metrics(query: { metrics: ["active_customers"], timeRange: { from: $from, to: $to } }) { rows } }',
          variables: { from: from.toISOString(), to: to.toISOString() },
        }),
      });
      const body = (await response.json()) as { data: { metrics: { rows: { active_customers: number }[] } } };
      return body.data.metrics.rows[0]!.active_customers;
    };
    const known = event();
    await post([known]);
    const before = await activeCustomers();
    const batch = [
      event({ name: 'app_open', customerId: 'active-1', placementId: null, properties: {} }),
      event({ name: 'app_open', customerId: 'active-1', placementId: null, properties: {} }),
      event({ name: 'app_open', customerId: 'active-2', placementId: null, properties: {} }),
      event({ customerId: known.customerId }),
      event({ name: 'app_open', customerId: null, anonymousId: 'visitor-1', placementId: null, properties: {} }),
      event({ name: 'app_open', customerId: 'too-old', occurredAt: new Date(Date.now() - 12 * HOUR).toISOString(), placementId: null, properties: {} }),
    ];
    expect((await post(batch)).body.accepted).toBe(6);
    expect(await activeCustomers()).toBe(before + 2);
  });
});

describe.runIf((await testEngines()).includes('postgres'))('racing retries on postgres', () => {
  const stored = (eventId: string): ValidEvent => ({
    eventId,
    name: 'app_open',
    customerId: 'c1',
    anonymousId: null,
    occurredAt: new Date().toISOString(),
    channel: 'app',
    page: null,
    placementId: null,
    productId: null,
    properties: {},
    personalProperties: [],
  });

  async function waitUntilBlockedOnLock(database: TestDatabase): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(database.db);
      if (rows[0]!.n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the retry never waited for the first write');
  }

  it('waits for an uncommitted first write, then counts duplicates, without deadlocking on id order', async () => {
    const database = await createTestDatabase('postgres');
    try {
      const [a, b] = [stored('race-a'), stored('race-b')];
      let retry: Promise<IngestOutcome> | undefined;
      // A first writer as ingestion writes: the id claimed in wealth.app_event_keys (the arbiter), then the event.
      const write = async (first: Transaction<DatabaseSchema>, e: ValidEvent) => {
        await first.insertInto('wealth.app_event_keys').values({ event_id: e.eventId, occurred_at: e.occurredAt }).execute();
        await first
          .insertInto('wealth.app_events')
          .values({ ...rowOf(e) })
          .execute();
      };
      await database.db.transaction().execute(async (first) => {
        await write(first, a);
        retry = ingestEvents(database, [b, a]); // the same events in the other order
        await waitUntilBlockedOnLock(database);
        await write(first, b);
      });
      expect(await retry).toEqual({ accepted: 0, quarantined: 0, duplicates: 2 });
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from wealth.app_events`.execute(database.db);
      expect(rows[0]!.n).toBe(2);
    } finally {
      await database.dispose();
    }
  });

  function rowOf(e: ValidEvent) {
    return {
      event_id: e.eventId,
      customer_id: e.customerId,
      anonymous_id: e.anonymousId,
      event_name: e.name,
      occurred_at: e.occurredAt,
      channel: e.channel,
      page: e.page,
      placement_id: e.placementId,
      product_id: e.productId,
      properties: JSON.stringify(e.properties),
    };
  }
});

describe('POST /v1/events access', () => {
  it('answers 401 or 403 when the authorize hook refuses, before reading or storing anything', async () => {
    let tracked = 0;
    const collector: EventCollector = {
      maxBatchSize: 1000,
      track: async () => {
        tracked += 1;
        return { accepted: 0, duplicates: 0, quarantined: 0, rejected: [] };
      },
      trackBuilt: async () => {
        tracked += 1;
        return { accepted: 0, duplicates: 0, quarantined: 0, rejected: [] };
      },
    };
    const refusal = { current: new StrataError('UNAUTHENTICATED', 'send a key') as StrataError | null };
    const route = createEventsRoute(collector, {
      maxBodyBytes: 1024,
      authorize: async () => {
        if (refusal.current) throw refusal.current;
      },
    });
    const server = createServer((request, response) => void route(request, response));
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const send = () => fetch(url, { method: 'POST', body: '[]' });
    try {
      const unauthenticated = await send();
      expect([unauthenticated.status, await unauthenticated.json()]).toEqual([401, { error: { code: 'UNAUTHENTICATED', message: 'send a key' } }]);
      refusal.current = new StrataError('FORBIDDEN', 'role analyst may not track');
      expect((await send()).status).toBe(403);
      expect(tracked).toBe(0);
      refusal.current = null;
      expect((await send()).status).toBe(200);
      expect(tracked).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('event settings', () => {
  it('reads bounds and quarantine from the environment, with defaults', () => {
    expect(loadConfig({})).toMatchObject({ eventMaxPastDays: 30, eventMaxFutureMinutes: 5, quarantineUndeclaredEvents: false });
    const configured = loadConfig({
      STRATA_EVENT_MAX_PAST_DAYS: '7',
      STRATA_EVENT_MAX_FUTURE_MINUTES: '1',
      STRATA_QUARANTINE_UNDECLARED_EVENTS: 'true',
    });
    expect(configured).toMatchObject({ eventMaxPastDays: 7, eventMaxFutureMinutes: 1, quarantineUndeclaredEvents: true });
    expect(() => loadConfig({ STRATA_EVENT_MAX_PAST_DAYS: '-1' })).toThrow(/STRATA_EVENT_MAX_PAST_DAYS/);
  });
});
