import { sql, type Kysely } from 'kysely';

/**
 * Goals (目标管理): a metric of the semantic layer, a target and a period, optionally under
 * a parent goal; versioned (optimistic concurrency) with every change in `strata.audit_log`
 * (kind `goal`). A parent cannot be removed while it has children, and cycles are refused
 * by the service.
 *
 * Also the index experiment results read exposures through: `placement_impression` events
 * by experiment key and customer (partial, so other events pay nothing for it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db
    .withSchema('strata')
    .schema.createTable('goals')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('target', 'float8', (c) => c.notNull())
    .addColumn('period_from', 'date', (c) => c.notNull())
    .addColumn('period_to', 'date', (c) => c.notNull())
    .addColumn('parent_key', 'text', (c) => c.references('strata.goals.key').onDelete('restrict'))
    .addColumn('description', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('goals_period_check', sql`period_from < period_to`)
    .addCheckConstraint('goals_parent_check', sql`parent_key IS NULL OR parent_key <> key`)
    .execute();
  await db.withSchema('strata').schema.createIndex('goals_parent_idx').on('goals').column('parent_key').execute();
  await sql`CREATE INDEX app_events_experiment_exposure_idx ON wealth.app_events ((properties ->> 'experiment'), customer_id)
    WHERE event_name = 'placement_impression'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS wealth.app_events_experiment_exposure_idx`.execute(db);
  await db.withSchema('strata').schema.dropTable('goals').ifExists().execute();
}
