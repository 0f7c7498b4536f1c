import { sql, type Kysely, type Transaction } from 'kysely';
import type { DatabaseSchema } from '../../../store/schema.ts';

interface IndexDefinition {
  table_name: string;
  index_name: string;
  index_def: string;
  constraint_name: string | null;
  constraint_def: string | null;
}

/**
 * Bulk loading is several times faster into bare tables: this drops the indexes (and the
 * primary keys no foreign key depends on) of `tables` in schema `wealth`, as the catalog
 * describes them, and returns a function that recreates exactly those definitions.
 */
export async function suspendIndexes(
  db: Kysely<DatabaseSchema>,
  tables: readonly string[],
  options: { maintenanceWorkMem?: string } = {},
): Promise<() => Promise<void>> {
  const { rows } = await sql<IndexDefinition>`
    SELECT c.relname AS table_name, i.relname AS index_name, pg_get_indexdef(x.indexrelid) AS index_def,
           con.conname AS constraint_name, pg_get_constraintdef(con.oid) AS constraint_def
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class c ON c.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = c.oid AND con.contype IN ('p', 'u')
    WHERE n.nspname = 'wealth' AND c.relname IN (${sql.join(tables)})
      AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = x.indexrelid)
    ORDER BY c.relname, i.relname`.execute(db);
  for (const index of rows) {
    if (index.constraint_name) {
      await sql`ALTER TABLE ${sql.table(`wealth.${index.table_name}`)} DROP CONSTRAINT ${sql.id(index.constraint_name)}`.execute(db);
    } else {
      await sql`DROP INDEX ${sql.table(`wealth.${index.index_name}`)}`.execute(db);
    }
  }
  return () =>
    withoutStatementTimeout(db, async (trx) => {
      if (options.maintenanceWorkMem) {
        await sql`SELECT set_config('maintenance_work_mem', ${options.maintenanceWorkMem}, true)`.execute(trx);
      }
      for (const index of rows) {
        if (index.constraint_name && index.constraint_def) {
          const table = sql.table(`wealth.${index.table_name}`);
          await sql`ALTER TABLE ${table} ADD CONSTRAINT ${sql.id(index.constraint_name)} ${sql.raw(index.constraint_def)}`.execute(trx);
        } else {
          // A partitioned table's index is described `ON ONLY` it: rebuilt on every partition.
          await sql.raw(index.index_def.replace(/ ON ONLY /, ' ON ')).execute(trx);
        }
      }
    });
}

/** Runs `work` in a transaction free of the pool's statement timeout (index builds, big INSERT ... SELECT). */
export function withoutStatementTimeout<T>(db: Kysely<DatabaseSchema>, work: (trx: Transaction<DatabaseSchema>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SET LOCAL statement_timeout = 0`.execute(trx);
    return work(trx);
  });
}
