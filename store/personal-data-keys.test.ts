import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeKeyText, parseEncryptionKeyring, parsePseudonymKey } from './personal-data-keys.ts';

describe('key texts', () => {
  it('read hex and base64 (standard and URL-safe, padding optional) to the same bytes', () => {
    const bytes = randomBytes(32);
    for (const text of [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, '')]) {
      expect(decodeKeyText(text).equals(bytes)).toBe(true);
    }
    expect(() => decodeKeyText('not a key!')).toThrow('must be base64 or hex');
    expect(() => decodeKeyText('abc+def_')).toThrow('must be base64 or hex');
  });

  it('give a pseudonym key of at least 32 bytes that does not print its bytes', () => {
    const bytes = randomBytes(48);
    const key = parsePseudonymKey(bytes.toString('base64'));
    expect(createHmac('sha256', key).update('x').digest('hex')).toBe(createHmac('sha256', bytes).update('x').digest('hex'));
    expect(JSON.stringify({ key })).not.toContain(bytes.toString('base64'));
    expect(() => parsePseudonymKey(randomBytes(31).toString('hex'))).toThrow('must hold at least 32 bytes (got 31)');
  });

  it('give a keyring whose first key seals and whose every key opens', () => {
    const single = parseEncryptionKeyring(randomBytes(32).toString('base64'));
    expect(single.current.version).toBe(1);
    const ring = parseEncryptionKeyring(`2:${randomBytes(32).toString('base64')}, 1:${randomBytes(32).toString('hex')}`);
    expect(ring.current.version).toBe(2);
    expect([...ring.byVersion.keys()]).toEqual([2, 1]);
  });

  it('refuse keys that are not exactly 32 bytes, unversioned lists and repeated versions, without echoing them', () => {
    const short = randomBytes(16).toString('base64');
    const refusal = (() => {
      try {
        parseEncryptionKeyring(short);
        return '';
      } catch (error) {
        return String(error);
      }
    })();
    expect(refusal).toMatch(/entry 1 \(version 1\) must hold exactly 32 bytes \(got 16\)/);
    expect(refusal).not.toContain(short);
    expect(() => parseEncryptionKeyring(randomBytes(33).toString('base64'))).toThrow('got 33');
    const key = randomBytes(32).toString('base64');
    expect(() => parseEncryptionKeyring(`${key},${key}`)).toThrow('entry 1 must be VERSION:KEY');
    expect(() => parseEncryptionKeyring(`1:${key},1:${key}`)).toThrow('each key version may appear once');
    expect(() => parseEncryptionKeyring(`0:${key}`)).toThrow('key versions start at 1');
  });
});
