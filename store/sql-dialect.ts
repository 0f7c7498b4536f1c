import { sql } from 'kysely';
import type { Database } from './database.ts';
import { POSTGRES_DIALECT, sqlDialect, type SqlDialect, type SqlDialectName } from '../modeling/sql/dialect.ts';

/**
 * The SQL dialect of the engine behind `database`: Citus when its extension is installed
 * (`pg_extension`), PostgreSQL otherwise (PGlite included). `STRATA_SQL_DIALECT` overrides it.
 */
export async function detectSqlDialect(database: Pick<Database, 'db'>): Promise<SqlDialect> {
  const { rows } = await sql<{ extname: string }>`SELECT extname FROM pg_extension WHERE extname = 'citus'`.execute(database.db);
  return rows.length > 0 ? sqlDialect('citus') : POSTGRES_DIALECT;
}

/** The configured dialect (`auto`: detected). */
export async function chooseSqlDialect(database: Pick<Database, 'db'>, configured: SqlDialectName | 'auto' = 'auto'): Promise<SqlDialect> {
  return configured === 'auto' ? detectSqlDialect(database) : sqlDialect(configured);
}
