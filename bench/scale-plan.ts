/**
 * The measurements docs/scale-plan.md extrapolates to 100,000,000 customers, on a PostgreSQL
 * database with the demo data (default `strata_bench_1m`, 1,000,000 customers; `--url` names
 * another, e.g. a smaller one): the rows and the bytes (heap and indexes) of every warehouse
 * and profile table, per customer and extrapolated linearly to 100 M, the size of one month's
 * partitions, then the wall time (median of `--rounds`) of a few interactive metric queries in
 * the PostgreSQL and Citus dialects, and of one tag materialization. Timings are only
 * meaningful on a quiet machine: the load average is printed beside them.
 *
 *   npx tsx bench/scale-plan.ts [--url postgres://...] [--rounds 3] [--skip-materialize]
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDatabase } from '../store/database.ts';
import { bundledDomain } from '../api/bundled-domain.ts';
import { materializeDomain } from '../api/materialize-domain.ts';
import { createSemanticLayer } from '../modeling/semantic-layer.ts';
import { CITUS_DIALECT, POSTGRES_DIALECT } from '../modeling/sql/dialect.ts';
import type { MetricQuery } from '../modeling/query/metric-query.ts';
import { ensureMillionDatabase } from './support/million-database.ts';
import { describeMachine, loadAverage, peakRssMb } from './support/machine.ts';
import { formatTable, median } from './support/stats.ts';

const { values } = parseArgs({ options: { url: { type: 'string' }, rounds: { type: 'string', default: '3' }, 'skip-materialize': { type: 'boolean' } } });
const ROUNDS = Math.max(1, Number(values.rounds));
const TARGET = 100_000_000;

const url = values.url ?? (await ensureMillionDatabase());
const database = await openDatabase({ databaseUrl: url, poolSize: 2, statementTimeoutMs: 0 });
console.log(`machine: ${describeMachine()}`);
const customers = Number((await sql<{ n: string }>`SELECT COUNT(*) AS n FROM wealth.customers`.execute(database.db)).rows[0]?.n ?? 0);
console.log(`database: ${customers.toLocaleString('en-US')} customers`);

interface TableSize {
  table: string;
  rows: number;
  heap: number;
  indexes: number;
}

/** Sizes of a table with its partitions (a partitioned table's own size is zero); rows counted below. */
const { rows: measured } = await sql<TableSize>`
  WITH tables AS (
    SELECT c.oid, n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('wealth', 'strata') AND c.relkind IN ('r', 'p') AND NOT c.relispartition),
  members AS (
    SELECT t.name, t.oid AS member FROM tables t
    UNION ALL SELECT t.name, i.inhrelid FROM tables t JOIN pg_inherits i ON i.inhparent = t.oid)
  SELECT m.name AS table, 0::float8 AS rows,
    SUM(pg_table_size(m.member))::float8 AS heap, SUM(pg_indexes_size(m.member))::float8 AS indexes
  FROM members m JOIN pg_class c ON c.oid = m.member GROUP BY m.name ORDER BY SUM(pg_total_relation_size(m.member)) DESC`.execute(database.db);

const sizes: TableSize[] = [];
for (const size of measured) {
  if (size.heap + size.indexes <= 64 * 1024) continue;
  const { rows } = await sql<{ n: string }>`SELECT COUNT(*) AS n FROM ${sql.table(size.table)}`.execute(database.db);
  sizes.push({ ...size, rows: Number(rows[0]?.n ?? 0) });
}
/** Tables whose size does not grow with the customers (the product catalogue and its prices). */
const FIXED = new Set(['wealth.products', 'wealth.product_nav']);
const gb = (bytes: number) => (bytes / 1024 ** 3).toFixed(bytes >= 1024 ** 3 ? 1 : 3);
const scale = TARGET / Math.max(1, customers);
console.log(`\nTable sizes, extrapolated linearly to ${TARGET.toLocaleString('en-US')} customers (products and their prices stay as they are):`);
console.log(
  formatTable(
    ['table', 'rows', 'heap GB', 'index GB', 'bytes/customer', `rows at 100M`, 'GB at 100M'],
    sizes.map((s) => {
      const factor = FIXED.has(s.table) ? 1 : scale;
      return [
        s.table,
        Math.round(s.rows).toLocaleString('en-US'),
        gb(s.heap),
        gb(s.indexes),
        FIXED.has(s.table) ? '-' : ((s.heap + s.indexes) / Math.max(1, customers)).toFixed(0),
        Math.round(s.rows * factor).toLocaleString('en-US'),
        gb((s.heap + s.indexes) * factor),
      ];
    }),
  ),
);
const total = sizes.reduce((sum, s) => sum + s.heap + s.indexes, 0);
const totalAt = sizes.reduce((sum, s) => sum + (s.heap + s.indexes) * (FIXED.has(s.table) ? 1 : scale), 0);
console.log(`total: ${gb(total)} GB here, ${gb(totalAt)} GB at 100M`);

const { rows: month } = await sql<{ table: string; bytes: number; rows: number }>`
  SELECT c.relname AS table, pg_total_relation_size(c.oid)::float8 AS bytes, c.reltuples::float8 AS rows FROM pg_class c
  WHERE c.relname IN ('app_events_p2026_03', 'holdings_daily_p2026_03')`.execute(database.db);
for (const m of month)
  console.log(`one month (${m.table}): ${Math.round(m.rows).toLocaleString('en-US')} rows, ${gb(m.bytes)} GB; at 100M ${gb(m.bytes * scale)} GB`);

const domain = bundledDomain();
const layers = {
  postgres: createSemanticLayer(domain.catalog, { maxRows: 100_000, dialect: POSTGRES_DIALECT }),
  citus: createSemanticLayer(domain.catalog, { maxRows: 100_000, dialect: CITUS_DIALECT }),
};
const QUARTER = { from: '2026-04-01', to: '2026-07-01' };
const QUERIES: Record<string, MetricQuery> = {
  'aum by month, 12 months': { metrics: ['aum'], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }], timeRange: { from: '2025-11-01', to: '2026-11-01' } },
  'active_customers by month, a quarter': { metrics: ['active_customers'], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }], timeRange: QUARTER },
  'purchase_amount by month and risk level, a quarter': {
    metrics: ['purchase_amount'],
    groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }, { dimension: 'customer.risk_level' }],
    timeRange: QUARTER,
  },
  'revisit_rate_7d by month, a quarter': { metrics: ['revisit_rate_7d'], groupBy: [{ dimension: 'metric_time', grain: 'MONTH' }], timeRange: QUARTER },
};
const timings: string[][] = [];
for (const [name, query] of Object.entries(QUERIES)) {
  const row = [name];
  for (const layer of [layers.postgres, layers.citus]) {
    const seconds: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const started = performance.now();
      await layer.query(database.db, query);
      seconds.push((performance.now() - started) / 1000);
    }
    row.push(median(seconds).toFixed(2));
  }
  timings.push(row);
}
console.log(`\nMetric queries, median of ${ROUNDS} (load average ${loadAverage().join(' ')}):`);
console.log(formatTable(['query', 'postgres s', 'citus shapes on postgres s'], timings));

if (!values['skip-materialize']) {
  const started = performance.now();
  const run = await materializeDomain(database, domain, { statementTimeoutMs: 0, force: true });
  console.log(
    `\ntag materialization: ${((performance.now() - started) / 1000).toFixed(1)} s for ${run.customers.toLocaleString('en-US')} customers (load average ${loadAverage().join(' ')})`,
  );
}
console.log(`peak RSS: ${peakRssMb()} MB`);
await database.close();
