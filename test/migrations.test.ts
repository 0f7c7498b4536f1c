import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { migrateDown, migrateToEmpty, migrateToLatest, migrationsAreCurrent } from '../store/migrate.ts';
import { migrations } from '../migrations/index.ts';

async function tablesIn(database: TestDatabase, schema: string): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(database.db);
  return rows.map((r) => r.table_name);
}

await describeEachEngine('migrations on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
  });
  afterAll(() => database.dispose());

  it('creates the wealth warehouse of DOMAIN.md and the platform schema', async () => {
    const applied = await migrateToLatest(database.db);
    expect(applied.map((r) => r.migrationName)).toEqual(Object.keys(migrations));
    expect(await migrationsAreCurrent(database.db)).toBe(true);
    expect(await tablesIn(database, 'wealth')).toEqual(expect.arrayContaining(['app_events', 'customers', 'holdings_daily', 'products', 'transactions']));
    expect(await tablesIn(database, 'strata')).toEqual(expect.arrayContaining(['audit_log', 'definitions']));
  });

  it('gives the warehouse columns the documented types', async () => {
    const { rows } = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>`
      select table_name, column_name, data_type, is_nullable from information_schema.columns
      where table_schema = 'wealth' and table_name in ('customers', 'transactions', 'holdings_daily')`.execute(database.db);
    const column = (table: string, name: string) => rows.find((r) => r.table_name === table && r.column_name === name);
    expect(column('customers', 'registered_at')?.data_type).toBe('timestamp with time zone');
    expect(column('customers', 'city_tier')?.data_type).toBe('integer');
    expect(column('customers', 'kyc_completed_at')?.is_nullable).toBe('YES');
    expect(column('transactions', 'amount')?.data_type).toBe('numeric');
    expect(column('holdings_daily', 'as_of')?.data_type).toBe('date');
  });

  it('indexes events by name and time with the customer carried, so one kind of event is read from the index alone', async () => {
    const { rows } = await sql<{ definition: string }>`
      select pg_get_indexdef(c.oid) as definition from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'wealth' and c.relname = 'app_events_name_time_idx'`.execute(database.db);
    expect(rows.map((r) => r.definition.replace(' ONLY', ''))).toEqual([
      expect.stringMatching(/ON wealth\.app_events USING btree \(event_name, occurred_at\) INCLUDE \(customer_id\)$/),
    ]);
  });

  it('indexes events by name, customer and time, so one kind of event is read in customer order from the index alone', async () => {
    const { rows } = await sql<{ definition: string }>`
      select pg_get_indexdef(c.oid) as definition from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'wealth' and c.relname = 'app_events_name_customer_time_idx'`.execute(database.db);
    expect(rows.map((r) => r.definition.replace(' ONLY', ''))).toEqual([
      expect.stringMatching(/ON wealth\.app_events USING btree \(event_name, customer_id, occurred_at\)$/),
    ]);
  });

  it('indexes holdings by day with every column carried, so the rows of one day are read from the index alone', async () => {
    const { rows } = await sql<{ definition: string }>`
      select pg_get_indexdef(c.oid) as definition from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'wealth' and c.relname = 'holdings_daily_as_of_idx'`.execute(database.db);
    expect(rows.map((r) => r.definition.replace(' ONLY', ''))).toEqual([
      expect.stringMatching(/ON wealth\.holdings_daily USING btree \(as_of\) INCLUDE \(customer_id, product_id, market_value\)$/),
    ]);
  });

  it('reverts one step and then everything, and applies again', async () => {
    const last = Object.keys(migrations).at(-1);
    const reverted = await migrateDown(database.db);
    expect(reverted.map((r) => r.migrationName)).toEqual([last]);
    expect(await migrationsAreCurrent(database.db)).toBe(false);
    await migrateToEmpty(database.db);
    expect(await tablesIn(database, 'wealth')).toEqual([]);
    await migrateToLatest(database.db);
    expect(await migrationsAreCurrent(database.db)).toBe(true);
  });
});
