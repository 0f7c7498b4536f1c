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
        { name: 'method', type: 'string', required: false, allowedValues: ['mobile', 'wechat'], pii: false, description: null },
        { name: 'mobile_number', type: 'string', required: false, allowedValues: null, pii: true, description: 'Personal data.' },
      ],
    });
    expect(Object.isFrozen(event) && Object.isFrozen(event.properties) && Object.isFrozen(event.properties[0])).toBe(true);
    expect(JSON.parse(JSON.stringify(event))).toEqual(event);
    expect(defineEvent({ ...spec, properties: {} }).pii).toBe(false);
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
