/**
 * Demo-data loading speed. By default: the default run (20,000 customers) into in-memory
 * PGlite. With `--engine postgres`: the N-customer run into a throwaway PostgreSQL database
 * `strata_bench_<ts>` (dropped afterwards unless `--keep`). Prints rows per table, seconds,
 * rows/s, seconds per stage, peak RSS and the machine.
 *
 *   npx tsx bench/seed.ts [--customers N] [--engine pglite|postgres] [--seed S] [--keep]
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../store/database.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { DEFAULT_DEMO_CUSTOMERS, seedDemoData } from '../domains/wealth/demo-data/seed-demo-data.ts';
import type { ProgressListener } from '../modeling/progress.ts';
import { runStatement } from './support/admin-connection.ts';

const ADMIN_URL = process.env.STRATA_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TABLES = ['customers', 'products', 'product_nav', 'transactions', 'holdings_daily', 'app_events'] as const;

const { values } = parseArgs({
  options: {
    customers: { type: 'string' },
    engine: { type: 'string', default: 'pglite' },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const customers = values.customers ? Number(values.customers) : DEFAULT_DEMO_CUSTOMERS;
const seed = values.seed ? Number(values.seed) : undefined;
if (values.engine !== 'pglite' && values.engine !== 'postgres') throw new Error(`--engine must be pglite or postgres, got ${values.engine}`);

const admin = (text: string) => runStatement(ADMIN_URL, text);

async function openTarget(): Promise<{ database: Database; label: string; dispose: () => Promise<void> }> {
  if (values.engine === 'pglite') {
    const database = await openDatabase({ dataDir: 'memory://' });
    return { database, label: 'PGlite (in-memory)', dispose: () => database.close() };
  }
  const name = `strata_bench_${Date.now()}`;
  await admin(`CREATE DATABASE ${name}`);
  const database = await openDatabase({ databaseUrl: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`), poolSize: 6 });
  return {
    database,
    label: `PostgreSQL database ${name}`,
    async dispose() {
      await database.close();
      if (values.keep) console.log(`kept ${name}`);
      else await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Seconds per stage: from the stage's first progress report to the next stage's first one. */
function stageTimer(): { onProgress: ProgressListener; stop: () => Map<string, number> } {
  const stages = new Map<string, number>();
  let current: { stage: string; since: number } | undefined;
  let lastPrint = 0;
  const close = (now: number) => {
    if (current) stages.set(current.stage, (stages.get(current.stage) ?? 0) + (now - current.since) / 1000);
  };
  return {
    onProgress({ stage, done, total }) {
      const now = performance.now();
      if (current?.stage !== stage) {
        close(now);
        current = { stage, since: now };
      }
      if (now - lastPrint > 5_000 || done === total) {
        lastPrint = now;
        process.stderr.write(`  ${stage} ${total === undefined ? '' : `${done}/${total}`}  rss ${mb(process.memoryUsage().rss)} MB\n`);
      }
    },
    stop() {
      close(performance.now());
      current = undefined;
      return stages;
    },
  };
}

function mb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

const cpu = cpus();
console.log(`machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, ${mb(totalmem())} MB RAM, Node ${process.version}`);
const target = await openTarget();
console.log(`target: ${target.label}, ${customers.toLocaleString('en')} customers${seed === undefined ? '' : `, seed ${seed}`}`);
try {
  await migrateToLatest(target.database.db);
  const timer = stageTimer();
  const summary = await seedDemoData(target.database, { customers, ...(seed === undefined ? {} : { seed }), onProgress: timer.onProgress });
  const stages = timer.stop();
  let total = 0;
  for (const table of TABLES) {
    const n = await target.database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL statement_timeout = 0`.execute(trx);
      const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(`wealth.${table}`)}`.execute(trx);
      return Number(rows[0]!.n);
    });
    total += n;
    console.log(`  ${table.padEnd(16)} ${n.toLocaleString('en').padStart(14)} rows`);
  }
  console.log(`  ${'total'.padEnd(16)} ${total.toLocaleString('en').padStart(14)} rows`);
  console.log(`stages: ${[...stages].map(([stage, s]) => `${stage} ${s.toFixed(1)} s`).join(', ')}`);
  console.log(`seconds: ${summary.seconds}  rows/s: ${Math.round(total / summary.seconds).toLocaleString('en')}`);
  if (target.database.engine === 'postgres') {
    const { rows } = await sql<{ size: string }>`SELECT pg_size_pretty(pg_database_size(current_database())) AS size`.execute(target.database.db);
    console.log(`database size: ${rows[0]!.size}`);
  }
  console.log(`peak RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
} finally {
  await target.dispose();
}
