import { createCipheriv, createDecipheriv, createHmac, randomBytes, type KeyObject } from 'node:crypto';
import type { EncryptionKey } from './personal-data-keys.ts';

/** Marks a stored pseudonym: scheme version 1 is HMAC-SHA256 over the value's text, base64url. */
export const PSEUDONYM_PREFIX = 'hmac:v1:';
const PSEUDONYM = /^hmac:v1:[A-Za-z0-9_-]{43}$/;
/** AES-GCM IV length: 96 bits, drawn at random for every value. */
export const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The keyed pseudonym of a personal value: equal values (and keys) give equal pseudonyms, so
 * grouping, counting distinct and joins keep working; without the key a value cannot be
 * tested. Strings are hashed as their UTF-8 text, other values as their JSON text.
 *
 * ```ts
 * pseudonymize(key, '13800138000'); // 'hmac:v1:Xq3...' (43 base64url characters)
 * ```
 */
export function pseudonymize(key: KeyObject, value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return PSEUDONYM_PREFIX + createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/** Whether a stored value is a pseudonym written by `pseudonymize`. */
export function isPseudonym(value: unknown): value is string {
  return typeof value === 'string' && PSEUDONYM.test(value);
}

/** Where a sealed value belongs: bound into the ciphertext, so a copy cannot be moved. */
export interface SealPlace {
  readonly eventId: string;
  readonly property: string;
}

/** An AES-256-GCM ciphertext with its random 96-bit IV, 128-bit tag and key version. */
export interface SealedValue {
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly keyVersion: number;
}

/** A sealed value that fails authentication: tampered with, moved, or sealed by another key. */
export class PersonalDataIntegrityError extends Error {
  override readonly name = 'PersonalDataIntegrityError';
}

/**
 * Encrypts a personal value (its JSON text, so the type comes back) with AES-256-GCM under a
 * fresh random IV (a batch may pass slices of one `randomBytes` call: cheaper, equally
 * random; an IV must never be used twice). The event id, property and key version are
 * authenticated with it.
 *
 * ```ts
 * const sealed = sealPersonalValue(keyring.current, '13800138000', { eventId: 'e-1', property: 'mobile_number' });
 * openPersonalValue(keyring.current.key, sealed, { eventId: 'e-1', property: 'mobile_number' }); // '13800138000'
 * ```
 */
export function sealPersonalValue(key: EncryptionKey, value: unknown, place: SealPlace, iv: Buffer = randomBytes(IV_BYTES)): SealedValue {
  if (iv.length !== IV_BYTES) throw new Error(`an AES-GCM IV has ${IV_BYTES} bytes`);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(place, key.version));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { ciphertext, iv, tag: cipher.getAuthTag(), keyVersion: key.version };
}

/**
 * Decrypts a sealed value; throws `PersonalDataIntegrityError` instead of returning anything
 * when the ciphertext, IV, tag, place or key do not authenticate.
 */
export function openPersonalValue(key: KeyObject, sealed: SealedValue, place: SealPlace): unknown {
  const where = `the encrypted copy of '${place.property}' of event '${place.eventId}' (key version ${sealed.keyVersion})`;
  if (sealed.iv.length !== IV_BYTES || sealed.tag.length !== TAG_BYTES) {
    throw new PersonalDataIntegrityError(`${where} is malformed: expected a ${IV_BYTES}-byte IV and a ${TAG_BYTES}-byte tag`);
  }
  let text: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(place, sealed.keyVersion));
    decipher.setAuthTag(sealed.tag);
    text = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new PersonalDataIntegrityError(
      `${where} failed authentication: it was altered, or the key configured for version ${sealed.keyVersion} is not the one that sealed it`,
    );
  }
  return JSON.parse(text) as unknown;
}

function associatedData(place: SealPlace, keyVersion: number): Buffer {
  return Buffer.from(JSON.stringify(['strata.event_pii', 1, place.eventId, place.property, keyVersion]), 'utf8');
}
