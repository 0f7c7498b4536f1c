import { describe, expect, it } from 'vitest';
import { defineEvent, EventDefinitionError, indexEventDefinitions, type EventSpec } from './define-event.ts';

const spec: EventSpec = {
  name: 'register',
  description: 'A visitor opened an account.',
  owner: 'growth',
  requires: ['customerId'],
  properties: {
    method: { type: 'string', allowedValues: ['mobile', 'wechat'] },
    mobile_number: { type: 'string', pii: true, description: 'Personal data.' },
  },
};

describe('defineEvent', () => {
  it('returns frozen plain data with properties in declaration order and PII derived from them', () => {
    const event = defineEvent(spec);
    expect(event).toEqual({
      kind: 'event',
      name: 'register',
      description: 'A visitor opened an account.',
      owner: 'growth',
      requires: ['customerId'],
      pii: true,
      properties: [
        { name: 'method', type: 'string', required: false, allowedValues: ['mobile', 'wechat'], sensitivity: 'internal', pii: false, description: null },
        { name: 'mobile_number', type: 'string', required: false, allowedValues: null, sensitivity: 'personal', pii: true, description: 'Personal data.' },
      ],
    });
    expect(Object.isFrozen(event) && Object.isFrozen(event.properties) && Object.isFrozen(event.properties[0])).toBe(true);
    expect(JSON.parse(JSON.stringify(event))).toEqual(event);
    expect(defineEvent({ ...spec, properties: {} }).pii).toBe(false);
  });

  it('reads sensitivity classes, with pii: true as shorthand for personal and restricted also personal data', () => {
    const event = defineEvent({
      ...spec,
      properties: {
        channel_name: { type: 'string', sensitivity: 'public' },
        method: { type: 'string' },
        shorthand: { type: 'string', pii: true },
        not_pii: { type: 'string', pii: false },
        email: { type: 'string', sensitivity: 'personal', pii: true },
        id_card: { type: 'string', sensitivity: 'restricted' },
      },
    });
    expect(event.properties.map((p) => [p.name, p.sensitivity, p.pii])).toEqual([
      ['channel_name', 'public', false],
      ['method', 'internal', false],
      ['shorthand', 'personal', true],
      ['not_pii', 'internal', false],
      ['email', 'personal', true],
      ['id_card', 'restricted', true],
    ]);
    expect(defineEvent({ ...spec, properties: { id_card: { type: 'string', sensitivity: 'restricted' } } }).pii).toBe(true);
  });

  it('refuses an unknown sensitivity and a pii flag that contradicts the class', () => {
    const define = (property: Record<string, unknown>) => () => defineEvent({ ...spec, properties: { x: { type: 'string', ...property } } });
    expect(define({ sensitivity: 'secret' })).toThrow("property 'x': unknown sensitivity 'secret' (one of public, internal, personal, restricted)");
    expect(define({ sensitivity: 'public', pii: true })).toThrow("property 'x': pii: true contradicts sensitivity 'public'");
    expect(define({ sensitivity: 'restricted', pii: false })).toThrow("property 'x': pii: false contradicts sensitivity 'restricted'");
  });

  it('collects every problem of a broken definition into one error', () => {
    const broken = () =>
      defineEvent({
        name: 'Bad-Name',
        description: '',
        owner: ' ',
        requires: ['email' as 'page'],
        properties: {
          amount: { type: 'number', allowedValues: ['high'] },
          when: { type: 'timestamp', allowedValues: ['2026-01-01T00:00:00Z'] },
          size: { type: 'decimal' as 'number' },
        },
      });
    expect(broken).toThrow(EventDefinitionError);
    expect(broken).toThrow(
      "event 'Bad-Name': name 'Bad-Name' must be snake_case, at most 64 characters; description is required; owner is required; " +
        "requires: unknown envelope field 'email'; property 'amount': allowedValues [\"high\"] are not of type number; " +
        "property 'when': a timestamp cannot list allowedValues; property 'size': unknown type 'decimal'",
    );
  });

  it('refuses two definitions of one name', () => {
    expect(() => indexEventDefinitions([defineEvent(spec), defineEvent(spec)])).toThrow("event 'register' is defined twice");
  });
});
