import { markAllRollupsStale } from '../../../store/rollup-marks.ts';
import { sql } from 'kysely';
import type { Database } from '../../../store/database.ts';
import { simulateCustomer, type ActivityOutput } from './activity.ts';
import { CUSTOMER_COLUMNS, customerCsv, customerIdWidth, generateCustomer } from './customers.ts';
import { RISK_ASSESSMENT_COLUMNS, riskAssessmentsCsv } from './risk-assessments.ts';
import { APP_EVENT_COLUMNS } from './event-log.ts';
import { buildHoldings, createPositionsTable, dropPositionsTable, POSITIONS_TABLE } from './holdings.ts';
import { POSITION_COLUMNS, TRANSACTION_COLUMNS } from './portfolio.ts';
import { PRODUCT_COLUMNS, PRODUCT_NAV_COLUMNS, createCatalog, productNavCsv, productsCsv } from './products.ts';
import { suspendIndexes, withoutStatementTimeout } from './suspended-indexes.ts';
import { createCsvWriter } from './csv-writer.ts';
import { createTableSink } from './table-sink.ts';
import type { ProgressListener } from '../../../modeling/progress.ts';

export {
  DEMO_ACTIVITY_START,
  DEMO_ACTIVITY_END_EXCLUSIVE,
  DEMO_ACTIVITY_LAST_DAY,
  DEMO_TIME_ZONE,
} from './calendar.ts';

export interface SeedOptions {
  /** Number of customers (default 20,000). */
  customers?: number;
  /** Random seed (default 42): the same seed gives the same rows on every engine. */
  seed?: number;
  /** Step n of SEED_STEPS, with a count of customers where the step goes customer by customer. */
  onProgress?: ProgressListener;
}

export interface SeedSummary {
  customers: number;
  products: number;
  transactions: number;
  holdings: number;
  events: number;
  seconds: number;
}

export const DEFAULT_DEMO_CUSTOMERS = 20_000;
export const DEFAULT_DEMO_SEED = 42;
const BATCH_CUSTOMERS = 1_000;
const LOADED_TABLES = ['app_events', 'transactions', 'holdings_daily'] as const;
const WEALTH_TABLES = ['customers', 'risk_assessments', 'products', 'product_nav', 'transactions', 'holdings_daily', 'app_events'] as const;
/** The steps of a seed, in order, as progress reports them. */
export const SEED_STEPS = [
  'generating customers',
  'loading products and daily NAV',
  'simulating 12 months of activity',
  'deriving daily holdings',
  'rebuilding indexes',
  'analyzing tables',
] as const;

/**
 * Loads the bundled domain's demo warehouse: customers and their risk-assessment history,
 * ~200 products with daily NAV,
 * 12 months of app events and transactions (2025-11-01 to 2026-10-31, Shanghai), and the
 * daily holdings derived from them. Deterministic: the same options give the same rows on
 * PGlite and PostgreSQL. Expects a migrated, empty warehouse.
 *
 * ```ts
 * const database = await openDatabase({ dataDir: 'memory://' });
 * await migrateToLatest(database.db);
 * const summary = await seedDemoData(database, { customers: 1_500, seed: 7 });
 * ```
 */
export async function seedDemoData(database: Database, options: SeedOptions = {}): Promise<SeedSummary> {
  const started = performance.now();
  const customers = options.customers ?? DEFAULT_DEMO_CUSTOMERS;
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  if (!Number.isSafeInteger(customers) || customers < 1) throw new RangeError(`customers must be a positive integer, got ${customers}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  await assertWarehouseEmpty(database);
  const progress = stepReporter(options.onProgress);

  await loadCustomers(database, seed, customers, progress);
  progress(2);
  const catalog = createCatalog(seed);
  await database.copyCsv('wealth.products', PRODUCT_COLUMNS, productsCsv(catalog.products));
  await database.copyCsv('wealth.product_nav', PRODUCT_NAV_COLUMNS, productNavCsv(catalog.products));

  const restoreIndexes = await suspendIndexes(database.db, LOADED_TABLES, {
    ...(database.engine === 'postgres' ? { maintenanceWorkMem: '512MB' } : {}),
  });
  let counts: { events: number; transactions: number; holdings: number };
  try {
    await createPositionsTable(database.db);
    const activity = await loadActivity(database, seed, customers, catalog, progress);
    progress(4, { done: 0, total: customers });
    const holdings = await buildHoldings(database, customers, (done) => progress(4, { done, total: customers }));
    counts = { ...activity, holdings };
  } catch (error) {
    // Leave the schema as the migrations made it; the load's own error is the one to report.
    await dropPositionsTable(database.db).catch(() => {});
    await restoreIndexes().catch(() => {});
    throw error;
  }
  await dropPositionsTable(database.db);
  progress(5);
  await restoreIndexes();
  progress(6);
  await withoutStatementTimeout(database.db, async (trx) => {
    for (const table of WEALTH_TABLES) await sql`ANALYZE ${sql.table(`wealth.${table}`)}`.execute(trx);
  });
  // Every rollup built before this load is stale: its next refresh recomputes it.
  await markAllRollupsStale(database.db);
  return {
    customers,
    products: catalog.products.length,
    ...counts,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** True when the demo warehouse has no customers yet (the CLI seeds only then). */
export async function isWarehouseEmpty(database: Database): Promise<boolean> {
  const row = await database.db.selectFrom('wealth.customers').select('customer_id').limit(1).executeTakeFirst();
  return row === undefined;
}

async function assertWarehouseEmpty(database: Database): Promise<void> {
  for (const table of WEALTH_TABLES) {
    const { rows } = await sql<{ present: number }>`SELECT 1 AS present FROM ${sql.table(`wealth.${table}`)} LIMIT 1`.execute(database.db);
    if (rows.length > 0) {
      throw new Error(
        `wealth.${table} already has rows: the demo data loads only into an empty warehouse (on embedded PGlite, \`npm run strata -- reset\` deletes the data folder; on PostgreSQL, use an empty database)`,
      );
    }
  }
}

/** Reports step `step` (1-based) of SEED_STEPS, with a count of customers when given. */
type Progress = (step: number, count?: { done: number; total: number }) => void;

function stepReporter(listener: ProgressListener | undefined): Progress {
  if (!listener) return () => {};
  return (step, count) => listener({ step, steps: SEED_STEPS.length, stage: SEED_STEPS[step - 1] ?? '', ...(count ? { ...count, unit: 'customers' } : {}) });
}

async function loadCustomers(database: Database, seed: number, customers: number, progress: Progress): Promise<void> {
  const width = customerIdWidth(customers);
  const sink = createTableSink(database, 'wealth.customers', CUSTOMER_COLUMNS);
  progress(1, { done: 0, total: customers });
  for (let low = 0; low < customers; low += BATCH_CUSTOMERS) {
    const high = Math.min(customers, low + BATCH_CUSTOMERS);
    const lines: string[] = [];
    for (let index = low; index < high; index++) lines.push(customerCsv(generateCustomer(seed, index, width)));
    await sink.write(lines.join(''));
    progress(1, { done: high, total: customers });
  }
  await sink.finish();
  // The history references the customers: it is loaded once they are all in.
  const assessments = createTableSink(database, 'wealth.risk_assessments', RISK_ASSESSMENT_COLUMNS);
  for (let low = 0; low < customers; low += BATCH_CUSTOMERS) {
    const high = Math.min(customers, low + BATCH_CUSTOMERS);
    const lines: string[] = [];
    for (let index = low; index < high; index++) lines.push(riskAssessmentsCsv(seed, generateCustomer(seed, index, width)));
    await assessments.write(lines.join(''));
  }
  await assessments.finish();
}

async function loadActivity(
  database: Database,
  seed: number,
  customers: number,
  catalog: ReturnType<typeof createCatalog>,
  progress: Progress,
): Promise<{ events: number; transactions: number }> {
  const width = customerIdWidth(customers);
  const sinks = {
    events: createTableSink(database, 'wealth.app_events', APP_EVENT_COLUMNS),
    transactions: createTableSink(database, 'wealth.transactions', TRANSACTION_COLUMNS),
    positions: createTableSink(database, POSITIONS_TABLE, POSITION_COLUMNS),
  };
  const counts = { events: 0, transactions: 0 };
  progress(3, { done: 0, total: customers });
  const out: ActivityOutput = { events: createCsvWriter(), transactions: createCsvWriter(), positions: createCsvWriter() };
  try {
    for (let low = 0; low < customers; low += BATCH_CUSTOMERS) {
      const high = Math.min(customers, low + BATCH_CUSTOMERS);
      for (let index = low; index < high; index++) simulateCustomer(seed, generateCustomer(seed, index, width), catalog, out);
      counts.events += out.events.rows;
      counts.transactions += out.transactions.rows;
      await sinks.events.write(out.events.take());
      await sinks.transactions.write(out.transactions.take());
      await sinks.positions.write(out.positions.take());
      progress(3, { done: high, total: customers });
    }
  } catch (error) {
    await Promise.allSettled(Object.values(sinks).map((sink) => sink.finish()));
    throw error;
  }
  await Promise.all(Object.values(sinks).map((sink) => sink.finish()));
  return counts;
}
