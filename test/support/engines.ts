import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { openDatabase, type Database, type Engine } from '../../store/database.ts';
import { migrateToLatest } from '../../store/migrate.ts';

const ADMIN_URL = process.env.STRATA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let postgresReachable: Promise<boolean> | undefined;

/** Whether the test PostgreSQL answers; in CI it must, so an unreachable server fails the run. */
export function isPostgresReachable(): Promise<boolean> {
  postgresReachable ??= (async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (error) {
      if (process.env.CI) throw new Error(`PostgreSQL at ${ADMIN_URL} is required in CI: ${String(error)}`);
      console.warn(`SKIPPING PostgreSQL suites: ${ADMIN_URL} is not reachable (${String(error)})`);
      return false;
    }
  })();
  return postgresReachable;
}

/** The engines this run can use: PGlite always, PostgreSQL when reachable (always in CI). Suites declare both with `describeEachEngine`, so an unusable one is reported as skipped. */
export async function testEngines(): Promise<Engine[]> {
  return (await isPostgresReachable()) ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase extends Database {
  /** Drops the throwaway PostgreSQL database (PGlite just closes). */
  dispose(): Promise<void>;
  readonly url?: string;
}

/**
 * A fresh, migrated database on `engine`: in-memory PGlite, or a throwaway PostgreSQL
 * database created for this test file and dropped by `dispose()`, on the test PostgreSQL or
 * on the server of `options.adminUrl` (a URL of its `postgres` database).
 */
export async function createTestDatabase(engine: Engine, options: { migrate?: boolean; adminUrl?: string } = {}): Promise<TestDatabase> {
  const migrate = options.migrate ?? true;
  const adminUrl = options.adminUrl ?? ADMIN_URL;
  if (engine === 'pglite') {
    const database = await openDatabase({ dataDir: 'memory://' });
    if (migrate) await migrateToLatest(database.db);
    return { ...database, dispose: () => database.close() };
  }
  const name = `strata_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const database = await openDatabase({ databaseUrl: url, poolSize: 4 });
  if (migrate) await migrateToLatest(database.db);
  return {
    ...database,
    url,
    async dispose() {
      await database.close();
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
