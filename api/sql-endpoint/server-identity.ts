import { sql } from 'kysely';
import { STRATA_VERSION } from '../../store/version.ts';
import type { Database } from '../../store/database.ts';

/**
 * The PostgreSQL release whose system catalogs the catalog mirror holds: PGlite 0.5.16 embeds
 * PostgreSQL 18.6. The mirror's worker checks it when it starts (a PGlite upgrade that
 * changes it fails the catalog queries, and the suite, until this is updated).
 */
export const CATALOG_POSTGRES_VERSION = '18.6';

/** What the SQL endpoint says it is, the same way everywhere a client may ask. */
export interface SqlServerIdentity {
  /**
   * The database name: `current_database()`, `current_catalog`, `pg_database`,
   * `information_schema.*.table_catalog` (the served PostgreSQL database's name, or
   * `STRATA_SQL_DATABASE`).
   */
  readonly database: string;
  /**
   * `server_version` (ParameterStatus at startup and `SHOW server_version`): the PostgreSQL
   * release of the catalogs first, as drivers parse it (pgjdbc's `ServerVersion.from` and
   * libpq's `PQserverVersion` read the leading `major.minor` and ignore the rest), then Strata.
   */
  readonly serverVersion: string;
  /** `version()`: SQLAlchemy and Tableau match `PostgreSQL <major>.<minor>` at its start. */
  readonly version: string;
}

export function sqlServerIdentity(database: string): SqlServerIdentity {
  return {
    database,
    serverVersion: `${CATALOG_POSTGRES_VERSION} (Strata ${STRATA_VERSION})`,
    version:
      `PostgreSQL ${CATALOG_POSTGRES_VERSION} (Strata ${STRATA_VERSION}): governed metrics over PostgreSQL wire protocol 3.0; ` +
      `catalogs of PostgreSQL ${CATALOG_POSTGRES_VERSION}, metric queries translated by the semantic layer`,
  };
}

/** The name of the PostgreSQL database the server serves; `strata` on embedded PGlite (whose one database is `postgres`). */
export async function servedDatabaseName(database: Pick<Database, 'engine' | 'db'>): Promise<string> {
  if (database.engine !== 'postgres') return 'strata';
  const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(database.db);
  return rows[0]?.name ?? 'strata';
}
