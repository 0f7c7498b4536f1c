import { sql, type Kysely } from 'kysely';

/**
 * Daily net asset value per product unit (Shanghai dates), for the bundled domain. The demo
 * data derives `holdings_daily.market_value` as units held times the day's NAV.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db
    .withSchema('wealth')
    .schema.createTable('product_nav')
    .addColumn('product_id', 'text', (c) => c.notNull().references('wealth.products.product_id'))
    .addColumn('as_of', 'date', (c) => c.notNull())
    .addColumn('nav', sql`numeric(12,4)`, (c) => c.notNull())
    .addPrimaryKeyConstraint('product_nav_pk', ['product_id', 'as_of'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.withSchema('wealth').schema.dropTable('product_nav').ifExists().execute();
}
