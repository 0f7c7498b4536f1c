#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { writeFile } from 'node:fs/promises';
import { databaseOptions, loadConfig, type ServerConfig } from './config.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { migrateDown, migrateToLatest } from '../store/migrate.ts';
import { logger } from '../store/logger.ts';
import { createApp } from './app.ts';
import { stopOnSignals } from './shutdown.ts';
import { createProgressReporter } from './progress.ts';
import { addTagCommands, materializeDomain } from './cli-tag-commands.ts';
import { currentSnapshot } from '../services/snapshot.ts';
import { demoKeysBanner, renewDemoKeys, type DemoKey } from './demo-keys.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port between 0 and 65535');
  return n;
}

async function withDatabase<T>(config: ServerConfig, work: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(databaseOptions(config));
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

async function migrate(database: Database): Promise<void> {
  const results = await migrateToLatest(database.db);
  for (const r of results) console.log(`applied ${r.migrationName}`);
  if (results.length === 0) console.log('migrations are current');
}

async function seed(database: Database, options: { customers?: number; seed?: number }): Promise<void> {
  const { seedDemoData } = await import('../domains/wealth/demo-data/seed-demo-data.ts');
  const progress = createProgressReporter();
  const summary = await seedDemoData(database, { ...options, onProgress: progress.update });
  progress.stop();
  console.log(
    `seeded ${summary.customers} customers, ${summary.products} products, ${summary.transactions} transactions, ` +
      `${summary.holdings} holdings rows, ${summary.events} events in ${summary.seconds.toFixed(1)} s`,
  );
}

async function serve(database: Database, config: ServerConfig, demoKeys: readonly DemoKey[] = []): Promise<void> {
  if (config.tracing) {
    const { startTracing } = await import('./tracing.ts');
    await startTracing(config.tracing);
  }
  const app = await createApp(database, config);
  const bound = await app.listen(config.port);
  console.log(`Strata serves GraphQL at http://localhost:${bound}/graphql (${database.engine})`);
  if (demoKeys.length > 0) console.log(demoKeysBanner(demoKeys, bound));
  stopOnSignals(app, database, config.shutdownGraceMs);
}

function createProgram(): Command {
  const program = new Command('strata').description('Strata: a governed semantic layer for online wealth management');
  program.showHelpAfterError();

  program
    .command('migrate')
    .description('apply pending migrations (or revert the latest with --down)')
    .option('--down', 'revert the latest applied migration')
    .action(async (options: { down?: boolean }) => {
      await withDatabase(loadConfig(), async (database) => {
        if (!options.down) return migrate(database);
        const results = await migrateDown(database.db);
        for (const r of results) console.log(`reverted ${r.migrationName}`);
      });
    });

  program
    .command('seed')
    .description('load the deterministic demo data of the bundled wealth domain')
    .option('--customers <n>', 'number of customers', positiveInt)
    .option('--seed <s>', 'random seed', positiveInt)
    .action(async (options: { customers?: number; seed?: number }) => {
      await withDatabase(loadConfig(), async (database) => {
        await migrateToLatest(database.db);
        await seed(database, options);
      });
    });

  program
    .command('serve')
    .description('serve the GraphQL API')
    .option('--port <p>', 'port to listen on (default PORT or 4000)', port)
    .action(async (options: { port?: number }) => {
      const config = { ...loadConfig(), ...(options.port !== undefined ? { port: options.port } : {}) };
      const database = await openDatabase(databaseOptions(config));
      await serve(database, config);
    });

  program
    .command('start')
    .description('migrate, seed the demo data when the warehouse is empty, materialize tags when never done, then serve (on PGlite: with fresh demo keys)')
    .option('--port <p>', 'port to listen on (default PORT or 4000)', port)
    .action(async (options: { port?: number }) => {
      const config = { ...loadConfig(), ...(options.port !== undefined ? { port: options.port } : {}) };
      const database = await openDatabase(databaseOptions(config));
      await migrate(database);
      const { isWarehouseEmpty } = await import('../domains/wealth/demo-data/seed-demo-data.ts');
      if (await isWarehouseEmpty(database)) await seed(database, {});
      if (!(await currentSnapshot(database.db))) await materializeDomain(database, { maxDrift: config.materializeMaxDrift });
      // Only the embedded demo gets printed keys; with DATABASE_URL, create keys with `keys create`.
      const demoKeys = database.engine === 'pglite' ? await renewDemoKeys(database) : [];
      await serve(database, config, demoKeys);
    });

  addTagCommands(program, (work) => withDatabase(loadConfig(), work));

  program
    .command('dbt')
    .description('work with dbt semantic-layer projects')
    .command('check <dir>')
    .description('validate a dbt semantic-layer project and print what it holds and what Strata refuses')
    .option('--schema <schema>', 'schema replacing $source_schema', process.env.STRATA_DBT_SCHEMA ?? 'public')
    .action(async (dir: string, options: { schema: string }) => {
      const { checkDbtProject } = await import('./dbt-check.ts');
      process.exitCode = checkDbtProject(dir, options.schema, console.log);
    });

  program
    .command('print-schema')
    .description('write the sorted GraphQL schema to codegen/schema.graphql (or --out)')
    .option('--out <file>', 'output file', 'codegen/schema.graphql')
    .action(async (options: { out: string }) => {
      const { printSortedSchema } = await import('../resolvers/schema.ts');
      await writeFile(options.out, printSortedSchema());
      console.log(`wrote ${options.out}`);
    });
  program
    .command('docs')
    .description('write the metric, model, tag, event and operation reference to docs/reference from the definitions')
    .action(async () => {
      const { writeReferenceDocs } = await import('./reference/reference-docs.ts');
      for (const path of await writeReferenceDocs('.')) console.log(`wrote ${path}`);
    });

  return program;
}

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  logger.debug({ err: error }, 'command failed');
  console.error(`strata: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
