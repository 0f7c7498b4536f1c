import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Creates a key and returns its secret, shown once; only its hash is stored. */
export async function createApiKey(db: Kysely<DatabaseSchema>, name: string, role: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9_.@-]{0,62}$/i.test(name)) throw new StrataError('BAD_USER_INPUT', `key name ${quoteInput(name)} must be 1-63 letters, digits, '_', '.', '@' or '-'`);
  const token = `sk_${randomBytes(24).toString('base64url')}`;
  const existing = await db.selectFrom('strata.api_keys').select('name').where('name', '=', name).executeTakeFirst();
  if (existing) throw new StrataError('CONFLICT', `a key named ${quoteInput(name)} exists; revoke it or choose another name`);
  await db.insertInto('strata.api_keys').values({ name, role, key_hash: hash(token) }).execute();
  return token;
}

/** Revokes a key by name; true when a live key was revoked. */
export async function revokeApiKey(db: Kysely<DatabaseSchema>, name: string): Promise<boolean> {
  const result = await db.updateTable('strata.api_keys').set({ revoked_at: new Date() }).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The live key a secret belongs to. */
export async function findApiKey(db: Kysely<DatabaseSchema>, token: string): Promise<{ name: string; role: string } | undefined> {
  return db.selectFrom('strata.api_keys').select(['name', 'role']).where('key_hash', '=', hash(token)).where('revoked_at', 'is', null).executeTakeFirst();
}
