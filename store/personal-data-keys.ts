import { createSecretKey, type KeyObject } from 'node:crypto';

/** Shortest pseudonym (HMAC-SHA256) key accepted, in bytes. */
export const MIN_PSEUDONYM_KEY_BYTES = 32;
/** Length of an AES-256-GCM key, in bytes. */
export const ENCRYPTION_KEY_BYTES = 32;

/** One AES-256-GCM key and the version recorded beside every value it seals. */
export interface EncryptionKey {
  readonly version: number;
  readonly key: KeyObject;
}

/** The key that seals new values, and every key (by version) that may open stored ones. */
export interface EncryptionKeyring {
  readonly current: EncryptionKey;
  readonly byVersion: ReadonlyMap<number, KeyObject>;
}

const HEX = /^(?:[0-9a-f]{2})+$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}$/;

/**
 * Decodes key text: a text of hex digits only (even count) is hex, anything else must be
 * base64 (standard or URL-safe alphabet, padding optional). Errors never echo the text.
 *
 * ```ts
 * decodeKeyText(randomBytes(32).toString('base64')).length; // 32
 * ```
 */
export function decodeKeyText(text: string): Buffer {
  const trimmed = text.trim();
  if (HEX.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!BASE64.test(trimmed)) throw new Error('must be base64 or hex');
  const bytes = Buffer.from(trimmed, /[-_]/.test(trimmed) ? 'base64url' : 'base64');
  // Buffer.from skips what it cannot read; a round trip proves every character counted.
  const again = bytes.toString(/[-_]/.test(trimmed) ? 'base64url' : 'base64').replace(/=+$/, '');
  if (again !== trimmed.replace(/=+$/, '')) throw new Error('must be base64 or hex');
  return bytes;
}

/**
 * The pseudonym key of `STRATA_PII_HMAC_KEY`: at least 32 bytes, base64 or hex.
 * Returned as a `KeyObject`, which prints and serializes without its bytes.
 */
export function parsePseudonymKey(text: string): KeyObject {
  const bytes = decodeKeyText(text);
  if (bytes.length < MIN_PSEUDONYM_KEY_BYTES) {
    throw new Error(`must hold at least ${MIN_PSEUDONYM_KEY_BYTES} bytes (got ${bytes.length}); e.g. openssl rand -base64 32`);
  }
  return createSecretKey(bytes);
}

/**
 * The keyring of `STRATA_PII_ENCRYPTION_KEY`: one 32-byte key (version 1), or for rotation a
 * comma-separated list `VERSION:KEY` whose first entry seals new values and all of which
 * open stored ones, e.g. `2:<new key>,1:<old key>`.
 *
 * ```ts
 * parseEncryptionKeyring(`2:${next},1:${previous}`).current.version; // 2
 * ```
 */
export function parseEncryptionKeyring(text: string): EncryptionKeyring {
  const entries = text.split(',').map((entry) => entry.trim());
  const keys: EncryptionKey[] = entries.map((entry, index) => {
    const versioned = /^(\d{1,9}):(.+)$/.exec(entry);
    if (!versioned && entries.length > 1) throw new Error(`entry ${index + 1} must be VERSION:KEY, e.g. 2:<base64 key>`);
    const version = versioned ? Number(versioned[1]) : 1;
    if (version < 1) throw new Error(`entry ${index + 1}: key versions start at 1`);
    const bytes = decodeKeyText(versioned ? versioned[2]! : entry);
    if (bytes.length !== ENCRYPTION_KEY_BYTES) {
      throw new Error(
        `entry ${index + 1} (version ${version}) must hold exactly ${ENCRYPTION_KEY_BYTES} bytes (got ${bytes.length}); e.g. openssl rand -base64 32`,
      );
    }
    return { version, key: createSecretKey(bytes) };
  });
  const byVersion = new Map(keys.map((k) => [k.version, k.key]));
  if (byVersion.size !== keys.length) throw new Error('each key version may appear once');
  return { current: keys[0]!, byVersion };
}
