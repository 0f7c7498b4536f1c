import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import type { ChangeFeed } from './change-feed.ts';
import { StrataError } from '../modeling/errors.ts';

/** The change channel of API keys: its payload is the name of a key created, revoked or replaced. */
export const API_KEYS_CHANNEL = 'strata_api_keys';

/** What a key grants besides its role; null means the role's own. */
export interface KeyGrant {
  readonly clearance?: string | null;
  /** Row-level scope as API clients write a rule. */
  readonly scope?: Record<string, unknown> | null;
  readonly createdBy?: string | null;
}

/** A live key as stored. */
export interface StoredKey {
  readonly name: string;
  readonly role: string;
  readonly clearance: string | null;
  readonly scope: unknown;
}

/** SHA-256 of a secret, hex: what the table holds and lookups compare. */
export function keyHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Refuses a key name that is not 1-63 letters, digits, '_', '.', '@' or '-'. */
export function checkKeyName(name: string): void {
  if (!/^[a-z0-9][a-z0-9_.@-]{0,62}$/i.test(name)) {
    throw new StrataError('BAD_USER_INPUT', `key name '${name.slice(0, 80)}' must be 1-63 letters, digits, '_', '.', '@' or '-'`, { path: 'name' });
  }
}

const newToken = () => `sk_${randomBytes(24).toString('base64url')}`;

const row = (name: string, role: string, token: string, grant: KeyGrant) => ({
  name,
  role,
  key_hash: keyHash(token),
  clearance: grant.clearance ?? null,
  scope: grant.scope ? JSON.stringify(grant.scope) : null,
  created_by: grant.createdBy ?? null,
});

/**
 * Creates a key and returns its secret, shown once; only its hash is stored. With a change
 * feed, running servers hear of it in the same transaction (it drops refusals they cached).
 */
export async function createApiKey(db: Kysely<DatabaseSchema>, name: string, role: string, grant: KeyGrant & { changes?: ChangeFeed } = {}): Promise<string> {
  checkKeyName(name);
  const token = newToken();
  await db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('strata.api_keys')
      .values(row(name, role, token, grant))
      .onConflict((conflict) => conflict.column('name').doNothing())
      .returning('name')
      .executeTakeFirst();
    if (!inserted) {
      throw new StrataError('CONFLICT', `a key named '${name}' exists (revoked keys keep their names); choose another name`, { path: 'name' });
    }
    await grant.changes?.notify(trx, API_KEYS_CHANNEL, name);
  });
  return token;
}

/**
 * Replaces the key of a name with a fresh one (its previous secret stops working), in one
 * transaction that tells every running server: how `npm start` renews its demo keys.
 */
export async function replaceApiKey(db: Kysely<DatabaseSchema>, changes: ChangeFeed, name: string, role: string, grant: KeyGrant = {}): Promise<string> {
  checkKeyName(name);
  const token = newToken();
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('strata.api_keys').where('name', '=', name).execute();
    await trx
      .insertInto('strata.api_keys')
      .values(row(name, role, token, grant))
      .execute();
    await changes.notify(trx, API_KEYS_CHANNEL, name);
  });
  return token;
}

/**
 * Revokes a key by name and tells every running server in the same transaction.
 * `found` is false for an unknown name; `revoked` is false when it was revoked before.
 */
export async function revokeApiKey(
  db: Kysely<DatabaseSchema>,
  changes: ChangeFeed,
  name: string,
  revokedBy: string | null = null,
): Promise<{ found: boolean; revoked: boolean; revokedAt: Date | null }> {
  return db.transaction().execute(async (trx) => {
    const key = await trx.selectFrom('strata.api_keys').select(['revoked_at']).where('name', '=', name).forUpdate().executeTakeFirst();
    if (!key) return { found: false, revoked: false, revokedAt: null };
    if (key.revoked_at) return { found: true, revoked: false, revokedAt: key.revoked_at };
    const revokedAt = new Date();
    await trx.updateTable('strata.api_keys').set({ revoked_at: revokedAt, revoked_by: revokedBy }).where('name', '=', name).execute();
    await changes.notify(trx, API_KEYS_CHANNEL, name);
    return { found: true, revoked: true, revokedAt };
  });
}

/** The live key whose secret hashes to `hash`. */
export async function findApiKey(db: Kysely<DatabaseSchema>, hash: string): Promise<StoredKey | undefined> {
  return db
    .selectFrom('strata.api_keys')
    .select(['name', 'role', 'clearance', 'scope'])
    .where('key_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}
