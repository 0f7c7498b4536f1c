import { sql, type Kysely } from 'kysely';

/** The bundled domain's warehouse, exactly as DOMAIN.md fixes it, in schema `wealth`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createSchema('wealth').ifNotExists().execute();
  const wealth = db.withSchema('wealth');

  await wealth.schema
    .createTable('customers')
    .addColumn('customer_id', 'text', (c) => c.primaryKey())
    .addColumn('registered_at', 'timestamptz', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('city_tier', 'integer', (c) => c.notNull())
    .addColumn('age_band', 'text', (c) => c.notNull())
    .addColumn('gender', 'text', (c) => c.notNull())
    .addColumn('risk_level', 'text', (c) => c.notNull())
    .addColumn('account_class', 'text', (c) => c.notNull())
    .addColumn('kyc_completed_at', 'timestamptz')
    .execute();

  await wealth.schema
    .createTable('products')
    .addColumn('product_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('product_type', 'text', (c) => c.notNull())
    .addColumn('risk_rating', 'text', (c) => c.notNull())
    .addColumn('launched_at', 'date', (c) => c.notNull())
    .execute();

  await wealth.schema
    .createTable('transactions')
    .addColumn('txn_id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull().references('wealth.customers.customer_id'))
    .addColumn('product_id', 'text', (c) => c.notNull().references('wealth.products.product_id'))
    .addColumn('txn_type', 'text', (c) => c.notNull())
    .addColumn('amount', sql`numeric(18,2)`, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await wealth.schema.createIndex('transactions_customer_idx').on('transactions').columns(['customer_id', 'occurred_at']).execute();
  await wealth.schema.createIndex('transactions_occurred_idx').on('transactions').column('occurred_at').execute();

  await wealth.schema
    .createTable('holdings_daily')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('as_of', 'date', (c) => c.notNull())
    .addColumn('market_value', sql`numeric(18,2)`, (c) => c.notNull())
    .addPrimaryKeyConstraint('holdings_daily_pk', ['customer_id', 'product_id', 'as_of'])
    .execute();
  await wealth.schema.createIndex('holdings_daily_as_of_idx').on('holdings_daily').column('as_of').execute();

  await wealth.schema
    .createTable('app_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text')
    .addColumn('anonymous_id', 'text')
    .addColumn('event_name', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('page', 'text')
    .addColumn('placement_id', 'text')
    .addColumn('product_id', 'text')
    .addColumn('properties', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await wealth.schema.createIndex('app_events_occurred_idx').on('app_events').column('occurred_at').execute();
  await wealth.schema.createIndex('app_events_customer_idx').on('app_events').columns(['customer_id', 'occurred_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropSchema('wealth').ifExists().cascade().execute();
}
