import { randomBytes, type KeyObject } from 'node:crypto';
import type { ValidEvent } from '../modeling/events/validate-event.ts';
import { IV_BYTES, pseudonymize, sealPersonalValue, type SealPlace } from './personal-data-cipher.ts';
import type { EncryptionKey } from './personal-data-keys.ts';

/** The keys an ingestion needs: always the pseudonym key; the encryption key only when configured. */
export interface PersonalDataProtection {
  readonly pseudonymKey: KeyObject;
  /** Seals the copy kept in `strata.event_pii`; without it no copy is kept. */
  readonly encryptionKey?: EncryptionKey | undefined;
}

/** One row of `strata.event_pii`, with its bytes in base64 for the JSON batch parameter. */
export interface VaultRow {
  readonly eventId: string;
  readonly property: string;
  readonly ciphertext: string;
  readonly iv: string;
  readonly tag: string;
  readonly keyVersion: number;
}

/** An undeclared event kept for stewards: the body as received and why it was not accepted. */
export interface QuarantinedEvent {
  readonly eventId: string;
  readonly name: string;
  readonly raw: unknown;
  readonly reason: string;
}

/**
 * Replaces each personal property of each event by its pseudonym and, with an encryption
 * key, seals the original into a vault row. Events without personal properties pass as they
 * are; no plain personal value survives in the returned events.
 */
export function protectEvents(events: readonly ValidEvent[], protection: PersonalDataProtection | undefined): { events: ValidEvent[]; vault: VaultRow[] } {
  const vault: VaultRow[] = [];
  const sealing = protection?.encryptionKey;
  // One CSPRNG call for the IVs of the whole batch, sliced: each value still gets its own.
  const ivs = sealing ? randomBytes(IV_BYTES * events.reduce((n, e) => n + e.personalProperties.length, 0)) : Buffer.alloc(0);
  const protectedEvents = events.map((event) => {
    if (event.personalProperties.length === 0) return event;
    if (!protection) throw new Error(`event '${event.eventId}' carries personal properties and no pseudonym key was given`);
    const properties: Record<string, unknown> = { ...event.properties };
    for (const property of event.personalProperties) {
      const value = properties[property];
      if (value === undefined) continue;
      properties[property] = pseudonymize(protection.pseudonymKey, value);
      if (sealing) {
        const iv = ivs.subarray(vault.length * IV_BYTES, (vault.length + 1) * IV_BYTES);
        vault.push(vaultRow(sealing, value, { eventId: event.eventId, property }, iv));
      }
    }
    return { ...event, properties };
  });
  return { events: protectedEvents, vault };
}

function vaultRow(key: EncryptionKey, value: unknown, place: SealPlace, iv: Buffer): VaultRow {
  const sealed = sealPersonalValue(key, value, place, iv);
  return {
    ...place,
    ciphertext: sealed.ciphertext.toString('base64'),
    iv: sealed.iv.toString('base64'),
    tag: sealed.tag.toString('base64'),
    keyVersion: sealed.keyVersion,
  };
}

/**
 * An undeclared event cannot be classified, so every property value is treated as personal:
 * the names stay (stewards see what arrives and can write the definition), each non-null
 * value becomes its pseudonym (equal values still compare equal). No copy is kept.
 */
export function protectQuarantined(event: QuarantinedEvent, protection: PersonalDataProtection | undefined): QuarantinedEvent {
  const raw = event.raw as Record<string, unknown> | null;
  const properties = raw?.properties;
  if (typeof properties !== 'object' || properties === null || Object.keys(properties).length === 0) return event;
  if (!protection) throw new Error(`quarantined event '${event.eventId}' carries properties and no pseudonym key was given`);
  const masked = Object.fromEntries(
    Object.entries(properties).map(([name, value]) => [name, value === null ? null : pseudonymize(protection.pseudonymKey, value)]),
  );
  return { ...event, raw: { ...raw, properties: masked } };
}
