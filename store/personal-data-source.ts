import type { KeyObject } from 'node:crypto';
import type { Database } from './database.ts';
import type { PersonalDataProtection } from './event-pii-protection.ts';
import type { EncryptionKeyring } from './personal-data-keys.ts';
import { loadInstallationPseudonymKey } from './installation-pseudonym-key.ts';
import { logger } from './logger.ts';

/** The configured keys for personal data (`STRATA_PII_HMAC_KEY`, `STRATA_PII_ENCRYPTION_KEY`). */
export interface PersonalDataKeys {
  readonly pseudonymKey?: KeyObject | undefined;
  readonly encryption?: EncryptionKeyring | undefined;
}

/**
 * Resolves the keys an ingestion needs, once: the configured pseudonym key, or else the
 * installation's generated one (read or created in the database on first use, with a
 * warning). A failed lookup is retried on the next call instead of being remembered.
 *
 * ```ts
 * const protection = createProtectionSource(database, { encryption: keyring });
 * await ingestEvents(database, events, [], await protection());
 * ```
 */
export function createProtectionSource(database: Database, keys: PersonalDataKeys): () => Promise<PersonalDataProtection> {
  let pending: Promise<PersonalDataProtection> | undefined;
  const resolve = async (): Promise<PersonalDataProtection> => {
    let pseudonymKey = keys.pseudonymKey;
    if (!pseudonymKey) {
      pseudonymKey = await loadInstallationPseudonymKey(database.db);
      logger.warn(
        'STRATA_PII_HMAC_KEY is not set: personal event properties are pseudonymized with a key generated for this ' +
          'installation and kept in strata.installation_secrets, so whoever reads the database can test guesses; set the variable in production',
      );
    }
    return { pseudonymKey, encryptionKey: keys.encryption?.current };
  };
  return () => {
    pending ??= resolve().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
