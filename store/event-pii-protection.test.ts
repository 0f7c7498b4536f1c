import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ValidEvent } from '../modeling/events/validate-event.ts';
import { protectEvents } from './event-pii-protection.ts';
import { openPersonalValue, pseudonymize } from './personal-data-cipher.ts';

const pseudonymKey = createSecretKey(randomBytes(32));
const encryptionKey = { version: 1, key: createSecretKey(randomBytes(32)) };
const event = (eventId: string, properties: Record<string, unknown>, personalProperties: string[]): ValidEvent => ({
  eventId,
  name: 'register',
  customerId: 'c1',
  anonymousId: null,
  occurredAt: '2026-06-01T00:00:00.000Z',
  channel: 'app',
  page: null,
  placementId: null,
  productId: null,
  properties,
  personalProperties,
});

describe('protecting a batch of events', () => {
  const batch = [
    event('e-1', { method: 'sms', mobile_number: '13800000001', id_card: 'X1' }, ['mobile_number', 'id_card']),
    event('e-2', { method: 'sms' }, []),
    event('e-3', { mobile_number: '13800000001' }, ['mobile_number']),
  ];

  it('replaces personal values by pseudonyms and seals each under its own IV', () => {
    const { events, vault } = protectEvents(batch, { pseudonymKey, encryptionKey });
    expect(events.map((e) => e.properties)).toEqual([
      { method: 'sms', mobile_number: pseudonymize(pseudonymKey, '13800000001'), id_card: pseudonymize(pseudonymKey, 'X1') },
      { method: 'sms' },
      { mobile_number: pseudonymize(pseudonymKey, '13800000001') },
    ]);
    expect(JSON.stringify(events)).not.toMatch(/13800000001|"X1"/);
    expect(vault.map((v) => [v.eventId, v.property])).toEqual([
      ['e-1', 'mobile_number'],
      ['e-1', 'id_card'],
      ['e-3', 'mobile_number'],
    ]);
    expect(new Set(vault.map((v) => v.iv)).size).toBe(3);
    const opened = vault.map((v) =>
      openPersonalValue(
        encryptionKey.key,
        {
          ciphertext: Buffer.from(v.ciphertext, 'base64'),
          iv: Buffer.from(v.iv, 'base64'),
          tag: Buffer.from(v.tag, 'base64'),
          keyVersion: v.keyVersion,
        },
        v,
      ),
    );
    expect(opened).toEqual(['13800000001', 'X1', '13800000001']);
    expect(batch[0]!.properties.mobile_number).toBe('13800000001'); // the input is not mutated
  });

  it('keeps no copy without an encryption key, and refuses personal values without any key', () => {
    expect(protectEvents(batch, { pseudonymKey }).vault).toEqual([]);
    expect(protectEvents([batch[1]!], undefined).events).toEqual([batch[1]]);
    expect(() => protectEvents(batch, undefined)).toThrow("event 'e-1' carries personal properties and no pseudonym key was given");
  });
});
