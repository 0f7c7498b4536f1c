#!/usr/bin/env node
/**
 * `strata`: the command line. This module only declares the commands; each action loads
 * what it needs when it runs, so `--help` or a key sent to a running server starts fast.
 * Commands that write to an embedded PGlite folder hold its lock (store/data-folder-lock.ts):
 * while a server owns the folder, `keys` and `materialize` go through its API and the
 * others refuse with one line.
 */
import * as nodeModule from 'node:module';
import { Command, InvalidArgumentError } from 'commander';
import { addTagCommands } from './cli-tag-commands.ts';

// V8's code cache on disk (Node >= 22.1; NODE_DISABLE_COMPILE_CACHE=1 turns it off): modules
// the actions load are compiled once, not on every run. Typed by hand: @types/node is older.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

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

function isoDay(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new InvalidArgumentError('expected a day as YYYY-MM-DD');
  return value;
}

function createProgram(): Command {
  const program = new Command('strata').description('Strata: a governed semantic layer for online wealth management');
  program.showHelpAfterError();

  program
    .command('migrate')
    .description('apply pending migrations (or revert the latest with --down)')
    .option('--down', 'revert the latest applied migration')
    .action(async (options: { down?: boolean }) => (await import('./cli-server-commands.ts')).runMigrate(options));

  program
    .command('seed')
    .description('load the deterministic demo data of the bundled wealth domain')
    .option('--customers <n>', 'number of customers', positiveInt)
    .option('--seed <s>', 'random seed', positiveInt)
    .action(async (options: { customers?: number; seed?: number }) => (await import('./cli-server-commands.ts')).runSeed(options));

  program
    .command('serve')
    .description('serve the GraphQL API')
    .option('--port <p>', 'port to listen on (default PORT or 4000)', port)
    .action(async (options: { port?: number }) => (await import('./cli-server-commands.ts')).runServe(options));

  program
    .command('start')
    .description('migrate, seed the demo data when the warehouse is empty, materialize tags when never done, then serve (on PGlite: with fresh demo keys)')
    .option('--port <p>', 'port to listen on (default PORT or 4000)', port)
    .action(async (options: { port?: number }) => (await import('./cli-server-commands.ts')).runStart(options));

  program
    .command('reset')
    .description('delete the embedded PGlite data folder (STRATA_DATA_DIR), after confirmation; refused with DATABASE_URL or while a server owns it')
    .option('--yes', 'do not ask for confirmation')
    .action(async (options: { yes?: boolean }) => (await import('./cli-reset.ts')).runReset(options));

  addTagCommands(program);

  program
    .command('rollups')
    .description('declared rollups (precomputed aggregates the compiler answers covered queries from)')
    .command('refresh')
    .description('recompute the stale partitions of every rollup (new tables for new or changed definitions), under the refresh lock servers share')
    .option('--only <names...>', 'only these rollups, by stored name (e.g. core_monthly_by__customer__channel)')
    .option('--progress', 'print each recomputed partition and its time')
    .option('--since <date>', 'only stale partitions ending after this day (YYYY-MM-DD); older ones stay stale, answered raw', isoDay)
    .action(async (options: { only?: string[]; progress?: boolean; since?: string }) => (await import('./cli-rollups.ts')).runRollupsRefresh(options));

  const dbt = program.command('dbt').description('work with dbt semantic-layer projects');
  dbt
    .command('check <path>')
    .description(
      'validate a dbt semantic-layer project (a project folder, or its target/semantic_manifest.json) and print what it holds, what it serves differently and what it refuses',
    )
    .option('--schema <schema>', 'schema of ref() without a configured schema, and of $source_schema (default STRATA_DBT_SCHEMA or public)')
    .action(async (dir: string, options: { schema?: string }) => {
      const [{ checkDbtProject }, { loadConfig }] = await Promise.all([import('./dbt-check.ts'), import('./config.ts')]);
      process.exitCode = checkDbtProject(dir, options.schema ?? loadConfig().dbtSchema, console.log);
    });
  dbt
    .command('export')
    .description("write the bundled domain's models, metrics and saved queries as a dbt semantic-layer project, and say what MetricFlow cannot express")
    .option('--out <dir>', 'folder to write the project to', 'dbt-export')
    .action(async (options: { out: string }) => (await import('./cli-dbt-export.ts')).runDbtExport(options));

  program
    .command('explain')
    .description("print the plan of a metric query (nodes, joins, filters, offsets, each metric's value, rewrites) without running it")
    .option('--metrics <names>', 'comma-separated metric names')
    .option('--group-by <refs>', 'comma-separated group-bys (metric_time__month, customer.channel, metric_time:MONTH)')
    .option('--where <json>', 'a filter in the FilterInput JSON form of the API')
    .option('--filter <text>', "a filter in MetricFlow's text form")
    .option('--from <date>', 'start of the time range (inclusive)')
    .option('--to <date>', 'end of the time range (exclusive)')
    .option('--order-by <fields>', 'comma-separated fields, -field for descending')
    .option('--limit <n>', 'row limit', positiveInt)
    .option('--query <json>', 'the whole query as JSON (MetricQueryInput); flags add to it')
    .option('--dbt <dir>', 'explain against this dbt project alone instead of the served catalog')
    .option('--schema <schema>', 'schema replacing $source_schema of --dbt (default STRATA_DBT_SCHEMA or public)')
    .option('--json', 'print the plan as JSON')
    .option('--sql', 'print the SQL after the plan')
    .option('--dialect <name>', 'compile for postgres or citus (default STRATA_SQL_DIALECT; auto means postgres without a database)')
    .action(async (options: import('./cli-explain.ts').ExplainOptions & { dbt?: string; schema?: string }) => {
      const [{ explainQuery }, { loadConfig }] = await Promise.all([import('./cli-explain.ts'), import('./config.ts')]);
      const config = loadConfig();
      const catalog = options.dbt
        ? (await import('../modeling/dbt/import-dbt-project.ts')).importDbtProject(options.dbt, { schema: options.schema ?? config.dbtSchema }).catalog
        : (await import('./serving-catalog.ts')).servingCatalog((await import('./bundled-domain.ts')).bundledDomain().catalog, config);
      const dialect = options.dialect ?? (config.sqlDialect === 'citus' ? 'citus' : undefined);
      explainQuery(catalog, { ...options, ...(dialect ? { dialect } : {}) }, console.log);
    });

  program
    .command('print-schema')
    .description('write the sorted GraphQL schema to codegen/schema.graphql (or --out)')
    .option('--out <file>', 'output file', 'codegen/schema.graphql')
    .action(async (options: { out: string }) => {
      const [{ printSortedSchema }, { writeFile }] = await Promise.all([import('../resolvers/schema.ts'), import('node:fs/promises')]);
      await writeFile(options.out, printSortedSchema());
      console.log(`wrote ${options.out}`);
    });
  program
    .command('print-placements')
    .description("write the bundled domain's placements and their tracking events to codegen/placements.json (or --out), for the typed client")
    .option('--out <file>', 'output file', 'codegen/placements.json')
    .action(async (options: { out: string }) => {
      const [{ placementsForClient }, { writeFile }] = await Promise.all([import('./placements-for-client.ts'), import('node:fs/promises')]);
      await writeFile(options.out, placementsForClient());
      console.log(`wrote ${options.out}`);
    });
  program
    .command('docs')
    .description('write the metric, model, tag, event and operation reference to docs/reference from the definitions')
    .action(async () => {
      const [{ writeReferenceDocs }, { bundledDomain }] = await Promise.all([import('./reference/reference-docs.ts'), import('./bundled-domain.ts')]);
      for (const path of await writeReferenceDocs('.', bundledDomain())) console.log(`wrote ${path}`);
    });

  return program;
}

try {
  await createProgram().parseAsync(process.argv);
} catch (error) {
  const { logger } = await import('../store/logger.ts');
  logger.debug({ err: error }, 'command failed');
  console.error(`strata: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
