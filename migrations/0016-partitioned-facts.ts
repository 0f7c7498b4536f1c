import { sql, type Kysely } from 'kysely';
import { ensurePartitionsForData, WEALTH_PARTITIONED_FACTS, type MonthlyPartitioning } from './partitions.ts';

/**
 * Scale-out layout of the warehouse (README "Scale-out", docs/distribution.md):
 *
 * - `wealth.app_events` and `wealth.holdings_daily` become partitioned by month
 *   (declarative range partitioning on `occurred_at`, months in the reporting time zone,
 *   and on `as_of`), with a default partition as safety; the existing rows move over, and
 *   partitions exist for every month of the data, the current month and three after it
 *   (seeding and ingestion create more: store/partitions.ts). A time-bounded query reads
 *   only the partitions of its range.
 * - A partitioned table's unique keys must contain the partition key, so the events' key
 *   becomes (`event_id`, `occurred_at`), and idempotency by `eventId` moves to
 *   `wealth.app_event_keys` (one row per event id ever accepted): ingestion inserts there
 *   first and writes only the events whose key was new (store/event-store.ts). On a
 *   distributed engine that table is distributed by `event_id`, the events by customer.
 * - `wealth.transactions` is keyed by (`customer_id`, `txn_id`), the key a table
 *   distributed by customer needs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await partition(db, WEALTH_PARTITIONED_FACTS[0] as MonthlyPartitioning, '(event_id, occurred_at)');
  await partition(db, WEALTH_PARTITIONED_FACTS[1] as MonthlyPartitioning, '(customer_id, product_id, as_of)');
  await sql`CREATE TABLE wealth.app_event_keys (event_id text PRIMARY KEY, occurred_at timestamptz NOT NULL)`.execute(db);
  await sql`INSERT INTO wealth.app_event_keys (event_id, occurred_at) SELECT event_id, occurred_at FROM wealth.app_events`.execute(db);
  await sql`ALTER TABLE wealth.transactions DROP CONSTRAINT transactions_pkey`.execute(db);
  await sql`ALTER TABLE wealth.transactions ADD CONSTRAINT transactions_pkey PRIMARY KEY (customer_id, txn_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE wealth.transactions DROP CONSTRAINT transactions_pkey`.execute(db);
  await sql`ALTER TABLE wealth.transactions ADD CONSTRAINT transactions_pkey PRIMARY KEY (txn_id)`.execute(db);
  await sql`DROP TABLE wealth.app_event_keys`.execute(db);
  await unpartition(db, 'wealth.app_events', '(event_id)');
  await unpartition(db, 'wealth.holdings_daily', '(customer_id, product_id, as_of)');
}

interface IndexRow {
  name: string;
  definition: string;
}

/** The name of a table's primary key constraint. */
async function primaryKeyName(db: Kysely<unknown>, table: string): Promise<string> {
  const { rows } = await sql<{ name: string }>`SELECT conname AS name FROM pg_constraint WHERE conrelid = to_regclass(${table}) AND contype = 'p'`.execute(db);
  if (!rows[0]) throw new Error(`${table} has no primary key`);
  return rows[0].name;
}

/** The secondary indexes of a table (not its primary key), as `CREATE INDEX` statements. */
async function secondaryIndexes(db: Kysely<unknown>, table: string): Promise<IndexRow[]> {
  const { rows } = await sql<IndexRow>`SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid = to_regclass(${table}) AND NOT x.indisprimary ORDER BY i.relname`.execute(db);
  return rows;
}

/**
 * Moves `spec.table` aside, creates it again partitioned by month with `primaryKey`, its
 * default partition and the monthly ones for its data (and the months ahead), copies the
 * rows, then recreates its
 * secondary indexes (once, on the partitioned table: each partition gets its own).
 */
async function partition(db: Kysely<unknown>, spec: MonthlyPartitioning, primaryKey: string): Promise<void> {
  const [schema, name] = spec.table.split('.') as [string, string];
  const old = `${name}_unpartitioned`;
  const indexes = await secondaryIndexes(db, spec.table);
  const key = await primaryKeyName(db, spec.table);
  await sql`ALTER TABLE ${sql.table(spec.table)} RENAME TO ${sql.id(old)}`.execute(db);
  await sql`ALTER TABLE ${sql.table(`${schema}.${old}`)} DROP CONSTRAINT ${sql.id(key)}`.execute(db);
  for (const index of indexes) await sql`DROP INDEX ${sql.table(`${schema}.${index.name}`)}`.execute(db);
  await sql`CREATE TABLE ${sql.table(spec.table)} (LIKE ${sql.table(`${schema}.${old}`)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS, CONSTRAINT ${sql.id(key)} PRIMARY KEY ${sql.raw(primaryKey)})
    PARTITION BY RANGE (${sql.ref(spec.column)})`.execute(db);
  await sql`CREATE TABLE ${sql.table(`${schema}.${name}_default`)} PARTITION OF ${sql.table(spec.table)} DEFAULT`.execute(db);
  // The months of the existing rows first, so each row is written once, into its month.
  await ensurePartitionsForData(db, spec, new Date(), `${schema}.${old}`);
  await sql`INSERT INTO ${sql.table(spec.table)} SELECT * FROM ${sql.table(`${schema}.${old}`)}`.execute(db);
  await sql`DROP TABLE ${sql.table(`${schema}.${old}`)}`.execute(db);
  for (const index of indexes) await sql.raw(index.definition).execute(db);
}

/** The reverse of `partition`: one plain table with the same rows, primary key and indexes. */
async function unpartition(db: Kysely<unknown>, table: string, primaryKey: string): Promise<void> {
  const [schema, name] = table.split('.') as [string, string];
  const old = `${name}_partitioned`;
  const indexes = await secondaryIndexes(db, table);
  const key = await primaryKeyName(db, table);
  for (const index of indexes) await sql`DROP INDEX ${sql.table(`${schema}.${index.name}`)}`.execute(db);
  await sql`ALTER TABLE ${sql.table(table)} RENAME TO ${sql.id(old)}`.execute(db);
  await sql`ALTER TABLE ${sql.table(`${schema}.${old}`)} DROP CONSTRAINT ${sql.id(key)}`.execute(db);
  await sql`CREATE TABLE ${sql.table(table)} (LIKE ${sql.table(`${schema}.${old}`)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS, CONSTRAINT ${sql.id(key)} PRIMARY KEY ${sql.raw(primaryKey)})`.execute(
    db,
  );
  await sql`INSERT INTO ${sql.table(table)} SELECT * FROM ${sql.table(`${schema}.${old}`)}`.execute(db);
  await sql`DROP TABLE ${sql.table(`${schema}.${old}`)} CASCADE`.execute(db);
  for (const index of indexes) await sql.raw(index.definition.replace(/ ON ONLY /, ' ON ')).execute(db);
}
