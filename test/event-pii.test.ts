import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createApp, type App } from '../api/app.ts';
import { loadConfig } from '../api/config.ts';
import { wealthChannels, wealthEvents } from '../domains/wealth/events.ts';
import { readCustomerEvents } from '../services/customer-events.ts';
import { createEventCollector } from '../store/event-collector.ts';
import { PersonalDataIntegrityError } from '../store/personal-data-cipher.ts';
import { parseEncryptionKeyring, parsePseudonymKey } from '../store/personal-data-keys.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

const HOUR = 3_600_000;
const hmacText = randomBytes(32).toString('base64');
const hmacBytes = Buffer.from(hmacText, 'base64');
const encryptionText = randomBytes(32).toString('hex');
const keys = { pseudonymKey: parsePseudonymKey(hmacText), encryption: parseEncryptionKeyring(`1:${encryptionText}`) };
/** The pseudonym as the README defines it, computed here independently of the server. */
const expectedPseudonym = (value: string, key: Buffer = hmacBytes) => `hmac:v1:${createHmac('sha256', key).update(value, 'utf8').digest('base64url')}`;

let sequence = 0;
/** A register event carrying a (made-up, unique) mobile number. */
function signUp(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  sequence += 1;
  return {
    eventId: `reg-${sequence}-${randomBytes(4).toString('hex')}`,
    name: 'register',
    customerId: `pii-c-${sequence}`,
    occurredAt: new Date(Date.now() - HOUR - sequence * 1000).toISOString(),
    channel: 'app',
    properties: { method: 'mobile', mobile_number: `1390000${String(1000 + sequence).padStart(4, '0')}` },
    ...overrides,
  };
}
const mobileOf = (event: Record<string, unknown>) => (event.properties as { mobile_number: string }).mobile_number;

await describeEachEngine('personal event properties on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let base = '';
  const gql = graphqlClient(() => base);

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    app = await createApp(database, bundledDomain(), {
      dev: false,
      maxBodyBytes: 512 * 1024,
      anonymousRole: 'app',
      quarantineUndeclaredEvents: true,
      piiHmacKey: keys.pseudonymKey,
      piiEncryptionKeys: keys.encryption,
    });
    base = `http://127.0.0.1:${await app.listen(0)}`;
  });
  afterAll(async () => {
    await app.close();
    await database.dispose();
  });

  const collector = (personalData: Parameters<typeof createEventCollector>[2]['personalData']) =>
    createEventCollector(database, wealthEvents, { channels: wealthChannels, quarantineUndeclared: true, personalData });
  const storedRow = (eventId: unknown) =>
    database.db
      .selectFrom('wealth.app_events')
      .selectAll()
      .where('event_id', '=', eventId as string)
      .executeTakeFirst();
  const copiesOf = (eventId: unknown) =>
    database.db
      .selectFrom('strata.event_pii')
      .selectAll()
      .where('event_id', '=', eventId as string)
      .execute();
  const post = async (events: unknown) => {
    const response = await fetch(`${base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    return (await response.json()) as { accepted: number; duplicates: number };
  };
  const TRACK = 'mutation($events: [TrackEventInput!]!) { trackEvents(events: $events) { accepted duplicates } }';

  it('stores a personal property only as its pseudonym, through POST /v1/events and trackEvents alike', async () => {
    const viaHttp = signUp();
    const viaGraphql = signUp();
    expect(await post([viaHttp])).toMatchObject({ accepted: 1 });
    expect((await gql.ok(null, TRACK, { events: [viaGraphql] })).trackEvents).toEqual({ accepted: 1, duplicates: 0 });
    for (const sent of [viaHttp, viaGraphql]) {
      const row = await storedRow(sent.eventId);
      expect(row?.properties).toEqual({ method: 'mobile', mobile_number: expectedPseudonym(mobileOf(sent)) });
      expect(JSON.stringify(row)).not.toContain(mobileOf(sent));
      const copies = await copiesOf(sent.eventId);
      expect(copies.map((c) => [c.property, c.key_version])).toEqual([['mobile_number', 1]]);
      expect(Buffer.from(copies[0]!.ciphertext).includes(Buffer.from(mobileOf(sent)))).toBe(false);
    }
    // Nothing in the database holds the plain number as text either.
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from wealth.app_events where properties::text like ${`%${mobileOf(viaHttp)}%`}`.execute(database.db);
    expect(rows[0]!.n).toBe(0);
  });

  it('gives equal values equal pseudonyms (grouping works) and another key other pseudonyms', async () => {
    const number = '13911112222';
    const pair = [signUp({ properties: { mobile_number: number } }), signUp({ properties: { mobile_number: number } })];
    const other = signUp({ properties: { mobile_number: '13911113333' } });
    expect(await post([...pair, other])).toMatchObject({ accepted: 3 });
    const { rows } = await sql<{ pseudonym: string; n: number }>`
      select properties->>'mobile_number' as pseudonym, count(*)::int as n from wealth.app_events
      where event_id in (${sql.join([...pair, other].map((e) => e.eventId as string))}) group by 1 order by 2 desc`.execute(database.db);
    expect(rows).toEqual([
      { pseudonym: expectedPseudonym(number), n: 2 },
      { pseudonym: expectedPseudonym('13911113333'), n: 1 },
    ]);

    const otherKeyText = randomBytes(32).toString('hex');
    const rekeyed = signUp({ properties: { mobile_number: number } });
    expect(await collector({ pseudonymKey: parsePseudonymKey(otherKeyText) }).track([rekeyed])).toMatchObject({ accepted: 1 });
    const stored = ((await storedRow(rekeyed.eventId))?.properties as { mobile_number: string } | undefined)?.mobile_number;
    expect(stored).toBe(expectedPseudonym(number, Buffer.from(otherKeyText, 'hex')));
    expect(stored).not.toBe(expectedPseudonym(number));
    expect(await copiesOf(rekeyed.eventId)).toEqual([]); // no encryption key: no copy
  });

  it('reveals the original through the read path only when asked and a key is configured', async () => {
    const customerId = `reader-${randomBytes(3).toString('hex')}`;
    const sent = signUp({ customerId, properties: { method: 'sms', mobile_number: '13722223333' } });
    const later = signUp({ customerId, name: 'login', occurredAt: new Date(Date.now() - HOUR / 2).toISOString(), properties: { method: 'sms' } });
    await post([sent, later]);
    const range = { customerId, from: new Date(Date.now() - 2 * HOUR), to: new Date() };
    const read = (options: { revealPersonal: boolean; encryptionKeys?: typeof keys.encryption }) => readCustomerEvents(database.db, { ...range, ...options });

    const masked = await read({ revealPersonal: false, encryptionKeys: keys.encryption });
    expect(masked.events.map((e) => [e.eventId, e.properties, e.revealed])).toEqual([
      [later.eventId, { method: 'sms' }, []],
      [sent.eventId, { method: 'sms', mobile_number: expectedPseudonym('13722223333') }, []],
    ]);
    expect((await read({ revealPersonal: true })).events[1]!.properties.mobile_number).toBe(expectedPseudonym('13722223333'));
    const retired = parseEncryptionKeyring(`2:${randomBytes(32).toString('base64')}`);
    expect((await read({ revealPersonal: true, encryptionKeys: retired })).events[1]!.revealed).toEqual([]);

    const revealed = await read({ revealPersonal: true, encryptionKeys: keys.encryption });
    expect(revealed.events[1]).toMatchObject({ name: 'register', properties: { method: 'sms', mobile_number: '13722223333' }, revealed: ['mobile_number'] });
    expect(revealed.hasMore).toBe(false);
    const firstOnly = await readCustomerEvents(database.db, { ...range, first: 1, revealPersonal: true, encryptionKeys: keys.encryption });
    expect([firstOnly.events.map((e) => e.eventId), firstOnly.hasMore]).toEqual([[later.eventId], true]);
  });

  it("serves a customer's events over GraphQL: in clear to an operator, as pseudonyms to an operator key cleared below personal data, never to an analyst", async () => {
    const event = signUp();
    await gql.ok(null, 'mutation($e: [TrackEventInput!]!) { trackEvents(events: $e) { accepted } }', { e: [event] });
    const { createApiKey } = await import('../store/api-keys.ts');
    const operator = await createApiKey(database.db, `ops-${engine}-${sequence}`, 'operator');
    const lowered = await createApiKey(database.db, `ops-low-${engine}-${sequence}`, 'admin');
    await sql`UPDATE strata.api_keys SET clearance = 'internal' WHERE name = ${`ops-low-${engine}-${sequence}`}`.execute(database.db);
    const analyst = await createApiKey(database.db, `an-${engine}-${sequence}`, 'analyst');
    const query =
      'query($c: String!, $f: String!, $t: String!) { customerEvents(customerId: $c, from: $f, to: $t) { events { eventId properties revealed } hasMore } }';
    const variables = { c: event.customerId, f: new Date(Date.now() - 30 * 24 * HOUR).toISOString(), t: new Date(Date.now() + HOUR).toISOString() };
    const clear = (await gql.ok(operator, query, variables)).customerEvents;
    expect(clear.events).toEqual([{ eventId: event.eventId, properties: { method: 'mobile', mobile_number: mobileOf(event) }, revealed: ['mobile_number'] }]);
    const masked = (await gql.ok(lowered, query, variables)).customerEvents.events[0];
    expect(masked).toEqual({ eventId: event.eventId, properties: { method: 'mobile', mobile_number: expectedPseudonym(mobileOf(event)) }, revealed: [] });
    expect((await gql.post(analyst, query, variables)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('fails authentication with a clear error when a stored copy was tampered with', async () => {
    const customerId = `tamper-${randomBytes(3).toString('hex')}`;
    const sent = signUp({ customerId });
    await post([sent]);
    const { rows } = await sql<{ hex: string }>`
      select encode(ciphertext, 'hex') as hex from strata.event_pii where event_id = ${sent.eventId as string}`.execute(database.db);
    const bytes = Buffer.from(rows[0]!.hex, 'hex');
    bytes[0] = bytes[0]! ^ 0xff;
    await sql`update strata.event_pii set ciphertext = decode(${bytes.toString('hex')}, 'hex') where event_id = ${sent.eventId as string}`.execute(database.db);
    const reading = readCustomerEvents(database.db, {
      customerId,
      from: new Date(Date.now() - 3 * HOUR),
      to: new Date(),
      revealPersonal: true,
      encryptionKeys: keys.encryption,
    });
    await expect(reading).rejects.toThrow(PersonalDataIntegrityError);
    await expect(reading).rejects.toThrow(`the encrypted copy of 'mobile_number' of event '${String(sent.eventId)}' (key version 1) failed authentication`);
  });

  it('writes no second copy for a duplicate event, even with another value', async () => {
    const sent = signUp();
    expect(await post([sent, { ...sent, properties: { mobile_number: '13800000000' } }])).toEqual({ accepted: 1, duplicates: 1, quarantined: 0, rejected: [] });
    expect((await gql.ok(null, TRACK, { events: [{ ...sent, properties: { mobile_number: '13800000001' } }] })).trackEvents).toEqual({
      accepted: 0,
      duplicates: 1,
    });
    expect(await copiesOf(sent.eventId)).toHaveLength(1);
    const page = await readCustomerEvents(database.db, {
      customerId: sent.customerId as string,
      from: new Date(Date.now() - 3 * HOUR),
      to: new Date(),
      revealPersonal: true,
      encryptionKeys: keys.encryption,
    });
    expect(page.events[0]!.properties.mobile_number).toBe(mobileOf(sent));

    // Stored before an encryption key was configured: a later retry does not add a copy either.
    const early = signUp();
    expect(await collector({ pseudonymKey: keys.pseudonymKey }).track([early])).toMatchObject({ accepted: 1 });
    expect(await collector(keys).track([{ ...early, properties: { mobile_number: '13800000002' } }])).toMatchObject({ duplicates: 1 });
    expect(await copiesOf(early.eventId)).toEqual([]);
  });

  it('stores nothing of a batch whose encrypted copy cannot be written, and all of it on retry', async () => {
    const poisoned = signUp();
    const batch = [signUp(), poisoned, signUp({ name: 'login', properties: { method: 'sms' } })];
    await sql`alter table strata.event_pii add constraint refuse_for_test check (event_id <> ${sql.lit(poisoned.eventId as string)})`.execute(database.db);
    try {
      await expect(collector(keys).track(batch)).rejects.toThrow(/refuse_for_test/);
    } finally {
      await sql`alter table strata.event_pii drop constraint refuse_for_test`.execute(database.db);
    }
    for (const sent of batch) {
      expect(await storedRow(sent.eventId)).toBeUndefined();
      expect(await copiesOf(sent.eventId)).toEqual([]);
    }
    expect(await collector(keys).track(batch)).toMatchObject({ accepted: 3, duplicates: 0 });
    expect((await Promise.all(batch.map((e) => copiesOf(e.eventId)))).map((c) => c.length)).toEqual([1, 1, 0]);
  });

  it('pseudonymizes every value of a quarantined event with the same key, so it joins with declared ones', async () => {
    const undeclared = signUp({ name: 'kyc_upload', properties: { id_number: '110101199001011234', mobile: '13722223333', pages: 3 } });
    expect(await post([undeclared])).toMatchObject({ quarantined: 1 });
    const row = await database.db
      .selectFrom('strata.event_quarantine')
      .selectAll()
      .where('event_id', '=', undeclared.eventId as string)
      .executeTakeFirstOrThrow();
    expect((row.raw as { properties: unknown }).properties).toEqual({
      id_number: expectedPseudonym('110101199001011234'),
      mobile: expectedPseudonym('13722223333'),
      pages: expectedPseudonym('3'),
    });
    expect(JSON.stringify(row)).not.toMatch(/110101199001011234|13722223333/);
  });

  it('without a configured key, generates one per installation, keeps it across restarts and keeps no copy', async () => {
    const first = signUp({ properties: { mobile_number: '13655556666' } });
    const second = signUp({ properties: { mobile_number: '13655556666' } });
    expect(await collector({}).track([first])).toMatchObject({ accepted: 1 });
    expect(await collector({}).track([second])).toMatchObject({ accepted: 1 }); // a new collector: as after a restart
    const [a, b] = await Promise.all([storedRow(first.eventId), storedRow(second.eventId)]);
    const pseudonym = (a?.properties as { mobile_number: string } | undefined)?.mobile_number;
    expect(pseudonym).toMatch(/^hmac:v1:[\w-]{43}$/);
    expect((b?.properties as { mobile_number: string } | undefined)?.mobile_number).toBe(pseudonym);
    expect(pseudonym).not.toBe(expectedPseudonym('13655556666'));
    const secrets = await database.db.selectFrom('strata.installation_secrets').select(['name']).execute();
    expect(secrets).toEqual([{ name: 'pii_hmac_key' }]);
    expect(await copiesOf(first.eventId)).toEqual([]);
  });

  it('serves the sensitivity of event properties in the catalog', async () => {
    const data = await gql.ok(null, '{ catalog { events { name properties { name sensitivity pii } } } }');
    const register = (data.catalog.events as { name: string; properties: unknown[] }[]).find((e) => e.name === 'register');
    expect(register?.properties).toEqual([
      { name: 'method', sensitivity: 'internal', pii: false },
      { name: 'invite_code', sensitivity: 'internal', pii: false },
      { name: 'mobile_number', sensitivity: 'personal', pii: true },
    ]);
  });

  it('refuses a read without bounds it can keep', async () => {
    const read = (overrides: Record<string, unknown>) =>
      readCustomerEvents(database.db, {
        customerId: 'c1',
        from: '2026-01-01T00:00:00+08:00',
        to: '2026-02-01T00:00:00+08:00',
        revealPersonal: false,
        ...overrides,
      });
    await expect(read({ first: 1001 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: 'first must be an integer from 1 to 1000' });
    await expect(read({ from: '2026-02-30T00:00:00Z' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'from must be an ISO-8601 date-time with offset',
    });
    await expect(read({ to: '2026-01-01T00:00:00+08:00' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(read({ customerId: 'c\u0000' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('personal data configuration', () => {
  it('reads both keys, and refuses short or malformed ones without echoing them', () => {
    const config = loadConfig({ STRATA_PII_HMAC_KEY: hmacText, STRATA_PII_ENCRYPTION_KEY: encryptionText });
    expect(config.piiEncryptionKeys?.current.version).toBe(1);
    expect(config.piiHmacKey?.symmetricKeySize).toBe(32);
    expect(loadConfig({})).toMatchObject({ piiHmacKey: undefined, piiEncryptionKeys: undefined });
    const short = randomBytes(31).toString('base64');
    expect(() => loadConfig({ STRATA_PII_HMAC_KEY: short })).toThrow('STRATA_PII_HMAC_KEY: must hold at least 32 bytes (got 31)');
    expect(() => loadConfig({ STRATA_PII_ENCRYPTION_KEY: randomBytes(24).toString('hex') })).toThrow(
      /STRATA_PII_ENCRYPTION_KEY: .*exactly 32 bytes \(got 24\)/,
    );
    expect(() => loadConfig({ STRATA_PII_HMAC_KEY: 'correct horse battery staple' })).toThrow('STRATA_PII_HMAC_KEY: must be base64 or hex');
    const refusal = (() => {
      try {
        loadConfig({ STRATA_PII_HMAC_KEY: short });
        return '';
      } catch (error) {
        return String(error);
      }
    })();
    expect(refusal).not.toContain(short);
  });
});
