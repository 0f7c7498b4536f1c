import type { Kysely } from 'kysely';

/**
 * What an API key grants beyond its role: a clearance lower than the role's (null: the
 * role's own) and a row-level scope (a rule over the customer's dimensions and published
 * tags, as API clients write it; null: every customer). Also who created and revoked it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db
    .withSchema('strata')
    .schema.alterTable('api_keys')
    .addColumn('clearance', 'text')
    .addColumn('scope', 'jsonb')
    .addColumn('created_by', 'text')
    .addColumn('revoked_by', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db
    .withSchema('strata')
    .schema.alterTable('api_keys')
    .dropColumn('revoked_by')
    .dropColumn('created_by')
    .dropColumn('scope')
    .dropColumn('clearance')
    .execute();
}
