import { sql, type Kysely } from 'kysely';

/**
 * Personal event properties. `event_pii` holds the AES-256-GCM copy of each personal value
 * of an event (the event row itself keeps only the keyed pseudonym), written in the same
 * statement as the event; `key_version` names the key that sealed it, so keys can rotate.
 * No foreign key into `wealth.app_events`: that table is distributed by customer under
 * Citus, where a local table may not reference it.
 *
 * `installation_secrets` keeps the pseudonym key the server generates for itself when
 * `STRATA_PII_HMAC_KEY` is not configured, so pseudonyms stay stable across restarts.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createSchema('strata').ifNotExists().execute();
  const strata = db.withSchema('strata');
  await strata.schema
    .createTable('event_pii')
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('property', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'bytea', (c) => c.notNull())
    .addColumn('iv', 'bytea', (c) => c.notNull().check(sql`octet_length(iv) = 12`))
    .addColumn('tag', 'bytea', (c) => c.notNull().check(sql`octet_length(tag) = 16`))
    .addColumn('key_version', 'integer', (c) => c.notNull().check(sql`key_version > 0`))
    .addPrimaryKeyConstraint('event_pii_pk', ['event_id', 'property'])
    .execute();
  await strata.schema.createIndex('event_pii_key_version_idx').on('event_pii').column('key_version').execute();
  await strata.schema
    .createTable('installation_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('secret', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const strata = db.schema.withSchema('strata');
  await strata.dropTable('installation_secrets').ifExists().execute();
  await strata.dropTable('event_pii').ifExists().execute();
}
