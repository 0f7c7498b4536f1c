import { sql, type Kysely } from 'kysely';

/**
 * Monitors (issue 19): one row per monitor and evaluated period. The primary key makes an
 * evaluation happen once per period whatever the number of server instances (the scheduler
 * also takes a PostgreSQL advisory lock so that only one instance does the work); a firing
 * is an evaluation with `fired`, carrying the explanation of the change and the state of
 * its webhook delivery (retried with backoff until delivered or given up).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db
    .withSchema('strata')
    .schema.createTable('monitor_evaluations')
    .addColumn('monitor_key', 'text', (c) => c.notNull())
    .addColumn('period_from', 'date', (c) => c.notNull())
    .addColumn('period_to', 'date', (c) => c.notNull())
    .addColumn('evaluated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('value', 'float8')
    .addColumn('expected', 'float8')
    .addColumn('fired', 'boolean', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('explanation', 'jsonb')
    .addColumn('delivery_status', 'text')
    .addColumn('delivery_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_delivery_at', 'timestamptz')
    .addColumn('last_delivery_error', 'text')
    .addPrimaryKeyConstraint('monitor_evaluations_pk', ['monitor_key', 'period_from'])
    .addCheckConstraint('monitor_evaluations_delivery_check', sql`delivery_status IS NULL OR delivery_status IN ('pending', 'delivered', 'failed')`)
    .execute();
  await sql`CREATE INDEX monitor_evaluations_pending_idx ON strata.monitor_evaluations (next_delivery_at) WHERE delivery_status = 'pending'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.withSchema('strata').schema.dropTable('monitor_evaluations').ifExists().execute();
}
