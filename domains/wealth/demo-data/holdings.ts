import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../store/database.ts';
import type { DatabaseSchema } from '../../../store/schema.ts';
import { withoutStatementTimeout } from './suspended-indexes.ts';

/**
 * Position intervals written by the generator: `units` held from `valid_from` up to (not
 * including) `valid_to`. A loading aid, dropped once `holdings_daily` is built from it.
 */
export const POSITIONS_TABLE = 'wealth.demo_seed_positions';

export async function createPositionsTable(db: Kysely<DatabaseSchema>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ${sql.table(POSITIONS_TABLE)}`.execute(db);
  await sql`
    CREATE UNLOGGED TABLE ${sql.table(POSITIONS_TABLE)} (
      customer_index integer NOT NULL,
      customer_id text NOT NULL,
      product_id text NOT NULL,
      valid_from date NOT NULL,
      valid_to date NOT NULL,
      units numeric(20,4) NOT NULL CHECK (units > 0)
    )`.execute(db);
}

export async function dropPositionsTable(db: Kysely<DatabaseSchema>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ${sql.table(POSITIONS_TABLE)}`.execute(db);
}

/**
 * Derives `wealth.holdings_daily` inside the database: one row per position and Shanghai day
 * of its interval, valued at that day's NAV. Only exact numeric multiplication and rounding,
 * so PGlite and PostgreSQL produce the same digits. Runs in customer slices (for progress,
 * and on PostgreSQL two at a time); returns the number of rows inserted.
 */
export async function buildHoldings(database: Database, customers: number, onSlice: (customersDone: number) => void): Promise<number> {
  const { db } = database;
  await sql`CREATE INDEX demo_seed_positions_customer_idx ON ${sql.table(POSITIONS_TABLE)} (customer_index)`.execute(db);
  await sql`ANALYZE ${sql.table(POSITIONS_TABLE)}`.execute(db);
  const sliceSize = Math.max(1_000, Math.ceil(customers / 40));
  const slices: [number, number][] = [];
  for (let low = 0; low < customers; low += sliceSize) slices.push([low, Math.min(customers, low + sliceSize)]);

  let next = 0;
  let rows = 0;
  let done = 0;
  const worker = async () => {
    while (next < slices.length) {
      const [low, high] = slices[next++]!;
      const inserted = await insertHoldingsSlice(db, low, high);
      rows += inserted;
      done += high - low;
      onSlice(done);
    }
  };
  const workers = database.engine === 'postgres' ? 2 : 1;
  await Promise.all(Array.from({ length: workers }, worker));
  return rows;
}

async function insertHoldingsSlice(db: Kysely<DatabaseSchema>, low: number, high: number): Promise<number> {
  const result = await withoutStatementTimeout(db, (trx) =>
    sql`
      INSERT INTO wealth.holdings_daily (customer_id, product_id, as_of, market_value)
      SELECT p.customer_id, p.product_id, n.as_of, round(p.units * n.nav, 2)
      FROM ${sql.table(POSITIONS_TABLE)} p
      JOIN wealth.product_nav n
        ON n.product_id = p.product_id AND n.as_of >= p.valid_from AND n.as_of < p.valid_to
      WHERE p.customer_index >= ${low} AND p.customer_index < ${high}`.execute(trx),
  );
  return Number(result.numAffectedRows ?? 0);
}
