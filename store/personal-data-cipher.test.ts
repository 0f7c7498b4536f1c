import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPseudonym, openPersonalValue, PersonalDataIntegrityError, pseudonymize, sealPersonalValue } from './personal-data-cipher.ts';

const keyBytes = randomBytes(32);
const pseudonymKey = createSecretKey(keyBytes);
const sealing = { version: 3, key: createSecretKey(randomBytes(32)) };
const place = { eventId: 'e-1', property: 'mobile_number' };

describe('pseudonyms', () => {
  it('are HMAC-SHA256 of the value text in a versioned, recognisable form', () => {
    const expected = `hmac:v1:${createHmac('sha256', keyBytes).update('13800138000', 'utf8').digest('base64url')}`;
    expect(pseudonymize(pseudonymKey, '13800138000')).toBe(expected);
    expect(isPseudonym(expected)).toBe(true);
    expect(isPseudonym('13800138000')).toBe(false);
  });

  it('are equal for equal values and differ for other values, other types and other keys', () => {
    const a = pseudonymize(pseudonymKey, '13800138000');
    expect(pseudonymize(pseudonymKey, '13800138000')).toBe(a);
    expect(pseudonymize(pseudonymKey, '13800138001')).not.toBe(a);
    expect(pseudonymize(pseudonymKey, 13800138000)).toBe(pseudonymize(pseudonymKey, 13800138000));
    expect(pseudonymize(createSecretKey(randomBytes(32)), '13800138000')).not.toBe(a);
  });
});

describe('sealed copies (AES-256-GCM)', () => {
  it('open to the original value and type, under a fresh IV each time', () => {
    const first = sealPersonalValue(sealing, '13800138000', place);
    const second = sealPersonalValue(sealing, '13800138000', place);
    expect([first.iv.length, first.tag.length, first.keyVersion]).toEqual([12, 16, 3]);
    expect(first.iv.equals(second.iv)).toBe(false);
    expect(first.ciphertext.includes(Buffer.from('13800138000'))).toBe(false);
    expect(openPersonalValue(sealing.key, first, place)).toBe('13800138000');
    expect(openPersonalValue(sealing.key, sealPersonalValue(sealing, 1987, place), place)).toBe(1987);
  });

  it('refuse to open when altered, moved to another event or property, or under another key', () => {
    const sealed = sealPersonalValue(sealing, '13800138000', place);
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] = flipped[0]! ^ 1;
    const attempts = [
      () => openPersonalValue(sealing.key, { ...sealed, ciphertext: flipped }, place),
      () => openPersonalValue(sealing.key, { ...sealed, tag: Buffer.alloc(16) }, place),
      () => openPersonalValue(sealing.key, sealed, { ...place, eventId: 'e-2' }),
      () => openPersonalValue(sealing.key, sealed, { ...place, property: 'invite_code' }),
      () => openPersonalValue(sealing.key, { ...sealed, keyVersion: 4 }, place),
      () => openPersonalValue(createSecretKey(randomBytes(32)), sealed, place),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(PersonalDataIntegrityError);
      expect(attempt).toThrow(/failed authentication/);
    }
    expect(() => openPersonalValue(sealing.key, { ...sealed, tag: sealed.tag.subarray(0, 4) }, place)).toThrow(
      /malformed: expected a 12-byte IV and a 16-byte tag/,
    );
  });
});
