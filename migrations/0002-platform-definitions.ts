import { sql, type Kysely } from 'kysely';

/**
 * The platform's own state, in schema `strata`: versioned definitions (tags, audiences and
 * later placements and strategies) and the append-only audit log of every change to them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createSchema('strata').ifNotExists().execute();
  const strata = db.withSchema('strata');

  await strata.schema
    .createTable('definitions')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('body', 'jsonb', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('definitions_pk', ['kind', 'key'])
    .execute();

  await strata.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('body', 'jsonb', (c) => c.notNull())
    .addColumn('diff', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('reason', 'text')
    .execute();
  await strata.schema.createIndex('audit_log_subject_idx').on('audit_log').columns(['kind', 'key', 'version']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropSchema('strata').ifExists().cascade().execute();
}
