import pg from 'pg';
import { withClient } from './admin-connection.ts';
import { openDatabase } from '../../store/database.ts';
import { migrateToLatest } from '../../store/migrate.ts';
import { seedDemoData } from '../../domains/wealth/demo-data/seed-demo-data.ts';
import { createProgressReporter } from '../../api/progress.ts';

const ADMIN_URL = process.env.STRATA_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const MILLION_DATABASE = 'strata_bench_1m';
export const MILLION_CUSTOMERS = 1_000_000;
export const MILLION_SEED = 42;
/** Written as the database's comment once the load has finished, so a half-loaded database is never reused. */
const MARKER = `strata bench: ${MILLION_CUSTOMERS} customers, seed ${MILLION_SEED}, complete`;

/** The connection URL of a database on the bench server. */
export function benchDatabaseUrl(name: string): string {
  return ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(ADMIN_URL, work);
}

/** True when the database exists, carries the completion marker and holds the 1,000,000 customers. */
async function isComplete(url: string): Promise<boolean> {
  const comment = await withAdmin(async (client) => {
    const { rows } = await client.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [MILLION_DATABASE],
    );
    return rows[0] === undefined ? undefined : rows[0].comment;
  });
  if (comment !== MARKER) return false;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM wealth.customers');
    return Number(rows[0]?.n) === MILLION_CUSTOMERS;
  } catch {
    return false;
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL database `strata_bench_1m` with the migrated schema and the demo data of
 * 1,000,000 customers (seed 42), for the benches that need production scale. Reused when a
 * previous run completed it (pending migrations are applied); otherwise dropped, created,
 * migrated and seeded, which takes several minutes. Returns its connection URL.
 *
 * ```ts
 * const url = await ensureMillionDatabase();
 * const database = await openDatabase({ databaseUrl: url });
 * ```
 */
export async function ensureMillionDatabase(): Promise<string> {
  const url = benchDatabaseUrl(MILLION_DATABASE);
  if (await isComplete(url)) {
    const database = await openDatabase({ databaseUrl: url, poolSize: 2 });
    try {
      await migrateToLatest(database.db);
    } finally {
      await database.close();
    }
    return url;
  }
  process.stderr.write(`creating ${MILLION_DATABASE}: ${MILLION_CUSTOMERS.toLocaleString('en')} customers, seed ${MILLION_SEED} (several minutes)\n`);
  await withAdmin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${MILLION_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${MILLION_DATABASE}`);
  });
  const database = await openDatabase({ databaseUrl: url, poolSize: 6 });
  const progress = createProgressReporter();
  try {
    await migrateToLatest(database.db);
    const summary = await seedDemoData(database, { customers: MILLION_CUSTOMERS, seed: MILLION_SEED, onProgress: progress.update });
    progress.stop();
    process.stderr.write(
      `seeded ${summary.customers} customers, ${summary.transactions} transactions, ${summary.holdings} holdings rows, ` +
        `${summary.events} events in ${summary.seconds.toFixed(1)} s\n`,
    );
  } finally {
    progress.stop();
    await database.close();
  }
  // Set the visibility map (index-only scans) and fresh statistics, as a maintained warehouse has.
  await withClient(url, (client) => client.query('VACUUM (ANALYZE)'));
  await withAdmin((client) => client.query(`COMMENT ON DATABASE ${MILLION_DATABASE} IS '${MARKER}'`));
  return url;
}
