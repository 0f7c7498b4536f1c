import { describe, expect, it } from 'vitest';
import { defineEvent } from './define-event.ts';
import { MAX_PROPERTIES_LENGTH } from './event-envelope.ts';
import { createEventValidator, type EventCheck } from './validate-event.ts';

const NOW = new Date('2026-06-01T00:00:00.000Z');
const DAY = 86_400_000;
const MINUTE = 60_000;

const click = defineEvent({
  name: 'placement_click',
  description: 'A click on a placement.',
  owner: 'test',
  requires: ['placementId'],
  properties: {
    position: { type: 'integer' },
    variant: { type: 'string', allowedValues: ['control', 'treatment'] },
  },
});
const purchase = defineEvent({
  name: 'purchase_submit',
  description: 'A purchase order.',
  owner: 'test',
  requires: ['customerId'],
  properties: {
    amount: { type: 'number', required: true },
    first: { type: 'boolean' },
    settles_at: { type: 'timestamp' },
    note: { type: 'string' },
  },
});
const signUp = defineEvent({
  name: 'register',
  description: 'An account was opened.',
  owner: 'test',
  properties: {
    method: { type: 'string' },
    mobile_number: { type: 'string', pii: true },
    id_card: { type: 'string', sensitivity: 'restricted' },
    birth_year: { type: 'integer', sensitivity: 'personal', allowedValues: [1990, 1991] },
  },
});
const validate = createEventValidator({ definitions: [click, purchase, signUp], channels: ['app', 'web'] });

const base = { eventId: 'e-1', name: 'placement_click', customerId: 'c1', occurredAt: '2026-05-31T23:00:00Z', channel: 'app', placementId: 'home_banner' };
const purchaseEvent = (properties: Record<string, unknown>) => ({ ...base, name: 'purchase_submit', placementId: undefined, properties });

function rejection(check: EventCheck): { code: string; message: string } | undefined {
  return check.kind === 'valid' ? undefined : check.rejection;
}

describe('validating an event envelope', () => {
  it('accepts a valid event and normalizes it: UTC timestamp, nulls for absent fields, empty properties', () => {
    const check = validate({ ...base, occurredAt: '2026-06-01T07:30:00+08:00' }, NOW);
    expect(check).toEqual({
      kind: 'valid',
      event: {
        eventId: 'e-1',
        name: 'placement_click',
        customerId: 'c1',
        anonymousId: null,
        occurredAt: '2026-05-31T23:30:00.000Z',
        channel: 'app',
        page: null,
        placementId: 'home_banner',
        productId: null,
        properties: {},
        personalProperties: [],
      },
    });
  });

  it.each([null, [], 'event', 42])('refuses %j, which is not an object', (input) => {
    expect(rejection(validate(input, NOW))).toEqual({ code: 'INVALID_FIELD', message: 'an event must be a JSON object' });
  });

  it.each(['eventId', 'name', 'occurredAt', 'channel'])('requires %s', (field) => {
    const input: Record<string, unknown> = { ...base };
    delete input[field];
    expect(rejection(validate(input, NOW))).toEqual({ code: 'MISSING_FIELD', message: `'${field}' is required` });
    expect(rejection(validate({ ...base, [field]: null }, NOW))?.code).toBe('MISSING_FIELD');
  });

  it('requires customerId or anonymousId, and accepts either alone', () => {
    expect(rejection(validate({ ...base, customerId: undefined }, NOW))).toEqual({
      code: 'MISSING_FIELD',
      message: 'an event needs customerId or anonymousId',
    });
    const anonymous = validate({ ...base, customerId: null, anonymousId: 'device-9' }, NOW);
    expect(anonymous.kind === 'valid' && anonymous.event).toMatchObject({ customerId: null, anonymousId: 'device-9' });
  });

  it('limits eventId to 1-128 characters', () => {
    expect(validate({ ...base, eventId: 'x'.repeat(128) }, NOW).kind).toBe('valid');
    expect(rejection(validate({ ...base, eventId: 'x'.repeat(129) }, NOW))).toEqual({
      code: 'INVALID_FIELD',
      message: "'eventId' must be at most 128 characters",
    });
    expect(rejection(validate({ ...base, eventId: '' }, NOW))).toEqual({ code: 'INVALID_FIELD', message: "'eventId' must not be empty" });
  });

  it('refuses a field of the wrong type and fields it does not know', () => {
    expect(rejection(validate({ ...base, customerId: 42 }, NOW))).toEqual({ code: 'INVALID_FIELD', message: "'customerId' must be a string" });
    expect(rejection(validate({ ...base, customer_id: 'c1' }, NOW))).toEqual({ code: 'INVALID_FIELD', message: "unknown field 'customer_id'" });
  });

  it('accepts only the configured channels', () => {
    expect(rejection(validate({ ...base, channel: 'fax' }, NOW))).toEqual({ code: 'INVALID_FIELD', message: "'channel' must be one of app, web" });
  });

  it.each(['2026-05-31T23:00:00', '2026-05-31', '2026-02-30T08:00:00Z', 'yesterday', 1_780_000_000_000])(
    'refuses occurredAt %j, which is not an ISO-8601 date-time with offset',
    (occurredAt) => {
      const refused = rejection(validate({ ...base, occurredAt }, NOW));
      expect(refused?.code).toBe('INVALID_FIELD');
      expect(refused?.message).toMatch(/^'occurredAt' must be/);
    },
  );

  it('refuses properties that are not an object', () => {
    expect(rejection(validate({ ...base, properties: [1] }, NOW))).toEqual({ code: 'INVALID_FIELD', message: "'properties' must be a JSON object" });
  });

  it('refuses characters PostgreSQL cannot store, in fields and in properties', () => {
    expect(rejection(validate({ ...base, eventId: 'e\u0000' }, NOW))?.code).toBe('INVALID_FIELD');
    expect(rejection(validate({ ...base, page: 'p\ud800' }, NOW))?.code).toBe('INVALID_FIELD');
    expect(rejection(validate(purchaseEvent({ amount: 1, note: 'a\u0000b' }), NOW))?.code).toBe('INVALID_PROPERTY');
    expect(validate(purchaseEvent({ amount: 1, note: 'emoji \ud83d\ude00 ok' }), NOW).kind).toBe('valid');
  });

  it('refuses properties larger than the limit', () => {
    const note = 'x'.repeat(MAX_PROPERTIES_LENGTH);
    expect(rejection(validate(purchaseEvent({ amount: 1, note }), NOW))).toEqual({
      code: 'INVALID_PROPERTY',
      message: `properties exceed ${MAX_PROPERTIES_LENGTH} characters of JSON`,
    });
  });
});

describe('bounding occurredAt', () => {
  const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();

  it('accepts events up to 30 days old and up to 5 minutes ahead by default, and refuses beyond', () => {
    expect(validate({ ...base, occurredAt: at(-30 * DAY) }, NOW).kind).toBe('valid');
    expect(rejection(validate({ ...base, occurredAt: at(-30 * DAY - 1) }, NOW))).toEqual({
      code: 'TIMESTAMP_OUT_OF_RANGE',
      message: `occurredAt ${at(-30 * DAY - 1)} is more than 30 days in the past`,
    });
    expect(validate({ ...base, occurredAt: at(5 * MINUTE) }, NOW).kind).toBe('valid');
    expect(rejection(validate({ ...base, occurredAt: at(5 * MINUTE + 1) }, NOW))).toEqual({
      code: 'TIMESTAMP_OUT_OF_RANGE',
      message: `occurredAt ${at(5 * MINUTE + 1)} is more than 5 minutes in the future`,
    });
  });

  it('compares instants, not wall-clock text, across offsets', () => {
    // 07:59 at +08:00 is 23:59 UTC the day before: one minute before NOW, not eight hours ahead.
    expect(validate({ ...base, occurredAt: '2026-06-01T07:59:00+08:00' }, NOW).kind).toBe('valid');
    expect(validate({ ...base, occurredAt: '2026-06-01T08:06:00+08:00' }, NOW).kind).toBe('rejected');
  });

  it('follows configured bounds', () => {
    const strict = createEventValidator({ definitions: [click], channels: ['app'], maxPastDays: 1, maxFutureMinutes: 0 });
    expect(strict({ ...base, occurredAt: at(-2 * DAY) }, NOW).kind).toBe('rejected');
    expect(strict({ ...base, occurredAt: at(1000) }, NOW).kind).toBe('rejected');
    expect(strict({ ...base, occurredAt: at(-DAY) }, NOW).kind).toBe('valid');
  });
});

describe('validating against the definition', () => {
  it('reports an unknown name as undeclared, with the normalized event for quarantine', () => {
    const check = validate({ ...base, name: 'wishlist_add', occurredAt: '2026-06-01T07:00:00+08:00', properties: { anything: [1] } }, NOW);
    expect(check.kind).toBe('undeclared');
    expect(check.kind === 'undeclared' && check.event).toMatchObject({ name: 'wishlist_add', occurredAt: '2026-05-31T23:00:00.000Z' });
    expect(rejection(check)).toEqual({ code: 'UNKNOWN_EVENT', message: "no event named 'wishlist_add' is defined" });
  });

  it('requires the envelope fields the event declares', () => {
    expect(rejection(validate({ ...base, placementId: null }, NOW))).toEqual({
      code: 'MISSING_FIELD',
      message: "'placementId' is required for placement_click",
    });
    expect(rejection(validate({ ...purchaseEvent({ amount: 1 }), customerId: undefined, anonymousId: 'd1' }, NOW))?.code).toBe('MISSING_FIELD');
  });

  it('requires required properties, also when sent as null', () => {
    const expected = { code: 'MISSING_FIELD', message: "property 'amount' is required for purchase_submit" };
    expect(rejection(validate(purchaseEvent({}), NOW))).toEqual(expected);
    expect(rejection(validate(purchaseEvent({ amount: null }), NOW))).toEqual(expected);
  });

  it('refuses properties the definition does not declare', () => {
    expect(rejection(validate(purchaseEvent({ amount: 1, coupon: 'X' }), NOW))).toEqual({
      code: 'INVALID_PROPERTY',
      message: "undeclared property 'coupon' for purchase_submit (declared: amount, first, settles_at, note)",
    });
  });

  it.each([
    ['a number', { amount: '12.50' }, 'property \'amount\' must be a number, got "12.50"'],
    ['an integer', { amount: 1 }, null],
    ['a boolean', { amount: 1, first: 'yes' }, 'property \'first\' must be a boolean, got "yes"'],
    ['a string', { amount: 1, note: 3 }, "property 'note' must be a string, got 3"],
    ['a timestamp', { amount: 1, settles_at: '2026-06-02' }, 'property \'settles_at\' must be an ISO-8601 timestamp with offset, got "2026-06-02"'],
    ['a flat value', { amount: { value: 1 } }, 'property \'amount\' must be a number, got {"value":1}'],
  ])('checks property types: %s', (_label, properties, message) => {
    const check = validate(purchaseEvent(properties), NOW);
    if (message === null) expect(check.kind).toBe('valid');
    else expect(rejection(check)).toEqual({ code: 'INVALID_PROPERTY', message });
  });

  it('refuses a fractional integer and a value outside allowedValues', () => {
    expect(rejection(validate({ ...base, properties: { position: 1.5 } }, NOW))).toEqual({
      code: 'INVALID_PROPERTY',
      message: "property 'position' must be an integer, got 1.5",
    });
    expect(rejection(validate({ ...base, properties: { variant: 'arm_c' } }, NOW))).toEqual({
      code: 'INVALID_PROPERTY',
      message: 'property \'variant\' must be one of "control", "treatment", got "arm_c"',
    });
    expect(validate({ ...base, properties: { position: 2, variant: 'treatment' } }, NOW).kind).toBe('valid');
  });

  it('normalizes properties: timestamps to UTC, optional nulls dropped', () => {
    const check = validate(purchaseEvent({ amount: 1234.56, settles_at: '2026-06-02T09:00:00+08:00', note: null }), NOW);
    expect(check.kind === 'valid' && check.event.properties).toEqual({ amount: 1234.56, settles_at: '2026-06-02T01:00:00.000Z' });
  });

  it('names the personal properties an event carries, personal and restricted alike', () => {
    const check = validate({ ...base, name: 'register', properties: { method: 'sms', mobile_number: '13800138000', id_card: 'X1', birth_year: null } }, NOW);
    expect(check.kind === 'valid' && check.event.personalProperties).toEqual(['mobile_number', 'id_card']);
    const plain = validate({ ...base, name: 'register', properties: { method: 'sms' } }, NOW);
    expect(plain.kind === 'valid' && plain.event.personalProperties).toEqual([]);
  });

  it('does not echo a personal value in a rejection', () => {
    const wrongType = rejection(validate({ ...base, name: 'register', properties: { mobile_number: 13800138000 } }, NOW));
    expect(wrongType).toEqual({ code: 'INVALID_PROPERTY', message: "property 'mobile_number' must be a string, got a number (personal value not shown)" });
    const notAllowed = rejection(validate({ ...base, name: 'register', properties: { birth_year: 1987 } }, NOW));
    expect(notAllowed?.message).toBe("property 'birth_year' must be one of 1990, 1991, got a number (personal value not shown)");
    expect(JSON.stringify([wrongType, notAllowed])).not.toMatch(/13800138000|1987/);
  });

  it('gives the same answer for the same input and clock', () => {
    const input = purchaseEvent({ amount: 5 });
    expect(validate(input, NOW)).toEqual(validate(input, new Date(NOW)));
  });
});
