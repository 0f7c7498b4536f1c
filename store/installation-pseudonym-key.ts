import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { MIN_PSEUDONYM_KEY_BYTES } from './personal-data-keys.ts';

const INSTALLATION_KEY = 'pii_hmac_key';

/**
 * The pseudonym key this installation generated for itself (used when `STRATA_PII_HMAC_KEY`
 * is not set): created once, on first use, in `strata.installation_secrets`; concurrent
 * servers agree on the first one written, so pseudonyms stay stable across restarts.
 */
export async function loadInstallationPseudonymKey(db: Kysely<DatabaseSchema>): Promise<KeyObject> {
  const candidate = randomBytes(MIN_PSEUDONYM_KEY_BYTES).toString('hex');
  await sql`
    insert into strata.installation_secrets (name, secret) values (${INSTALLATION_KEY}, decode(${candidate}, 'hex'))
    on conflict (name) do nothing`.execute(db);
  const { rows } = await sql<{ secret: string }>`
    select encode(secret, 'hex') as secret from strata.installation_secrets where name = ${INSTALLATION_KEY}`.execute(db);
  const secret = rows[0]?.secret;
  if (!secret) throw new Error('the installation pseudonym key could not be stored');
  return createSecretKey(Buffer.from(secret, 'hex'));
}
