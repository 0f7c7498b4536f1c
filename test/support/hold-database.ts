import pg from 'pg';
import type { Engine } from '../../store/database.ts';
import type { TestDatabase } from './engines.ts';

/**
 * Blocks the database as seen by the app, so requests stay in flight until `release()`:
 * on PostgreSQL a transaction locks the events table and the migrations table (what
 * `POST /v1/events` and `/ready` read); on PGlite a transaction holds its only connection.
 */
export async function holdDatabase(engine: Engine, database: TestDatabase): Promise<{ release(): Promise<void> }> {
  if (engine === 'postgres') {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('begin');
    await client.query('lock table wealth.app_events in exclusive mode');
    await client.query('lock table public.kysely_migration in access exclusive mode');
    return {
      async release() {
        await client.query('commit');
        await client.end();
      },
    };
  }
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const transaction = database.db.transaction().execute(async () => {
    holding();
    await released;
  });
  await held;
  return {
    async release() {
      release();
      await transaction;
    },
  };
}
