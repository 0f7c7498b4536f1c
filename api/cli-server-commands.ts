import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { databaseOptions, type ServerConfig } from './config.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { migrateDown, migrateToLatest } from '../store/migrate.ts';
import type { DataFolderLock } from '../store/data-folder-lock.ts';
import { stopOnSignals } from './shutdown.ts';
import { createProgressReporter } from './progress.ts';
import { currentSnapshot } from '../services/snapshot.ts';
import { CONSOLE_BUILD_DIR } from './console-assets.ts';
import { demoKeysBanner, renewDemoKeys, type DemoKey } from './demo-keys.ts';
import { claimDataFolder, cliConfig, withDatabase } from './cli-database.ts';
import { createLocalToken } from './local-credential.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';

/**
 * `strata migrate [--down]`. Schema changes run without the request statement timeout: an
 * index over a year of events takes minutes at a million customers, and a cancelled
 * migration would leave the database behind the code.
 */
export async function runMigrate(options: { down?: boolean }): Promise<void> {
  await withDatabase({ ...cliConfig(), statementTimeoutMs: 0 }, 'migrate', async (database) => {
    if (!options.down) return migrate(database);
    const results = await migrateDown(database.db);
    for (const r of results) console.log(`reverted ${r.migrationName}`);
  });
}

/** `strata seed`: migrates, then loads the demo data into an empty warehouse. */
export async function runSeed(options: { customers?: number; seed?: number }): Promise<void> {
  await withDatabase(cliConfig(), 'seed', async (database) => {
    await migrateToLatest(database.db);
    await seed(database, options);
  });
}

/** `strata serve`: serves the API until SIGTERM or SIGINT. */
export async function runServe(options: { port?: number }): Promise<void> {
  const config = cliConfig(options.port);
  const lock = claimDataFolder(config, 'serve');
  const app = loadApp();
  const database = await openDatabase(databaseOptions(config));
  await serve(await app, database, config, lock);
}

/** `strata start` (`npm start`): migrate, seed when empty, materialize when never done, serve; demo keys on PGlite. */
export async function runStart(options: { port?: number }): Promise<void> {
  const config = cliConfig(options.port);
  const lock = claimDataFolder(config, 'start');
  const app = loadApp();
  const database = await openDatabase(databaseOptions(config));
  await migrate(database);
  const { bundledDemoData, bundledDomain } = await import('./bundled-domain.ts');
  if (await bundledDemoData.isEmpty(database)) await seed(database, {});
  if (!(await currentSnapshot(database.db))) {
    const { materializeDomain } = await import('./materialize-domain.ts');
    await materializeDomain(database, bundledDomain(), { maxDrift: config.materializeMaxDrift, statementTimeoutMs: config.materializeStatementTimeoutMs });
  }
  const { seedDemoDecisions } = await import('./demo-decisions.ts');
  const seeded = await seedDemoDecisions(database, bundledDomain());
  if (seeded > 0) console.log(`published ${seeded} demo decision definitions (placements, contents, strategies, an experiment)`);
  const { seedDemoGoals } = await import('./demo-goals.ts');
  const goals = await seedDemoGoals(database, bundledDomain());
  if (goals > 0) console.log(`created ${goals} demo goals (a quarter's purchase amount and its months)`);
  // Only the embedded demo gets printed keys; with DATABASE_URL, create keys with `keys create`.
  const demoKeys = database.engine === 'pglite' ? await renewDemoKeys(database) : [];
  await serve(await app, database, config, lock, demoKeys);
}

type CreateApp = typeof import('./app.ts').createApp;

/** The HTTP application's factory and the bundled domain it serves. */
interface LoadedApp {
  readonly createApp: CreateApp;
  readonly domain: Domain;
}

/**
 * Starts loading the HTTP application (Apollo, the schema: most of the modules a server
 * loads) and building the bundled domain while the database opens; it settles even on
 * failure, so an early error cannot leave an unhandled rejection behind.
 */
function loadApp(): Promise<LoadedApp> {
  const loading = Promise.all([import('./app.ts'), import('./bundled-domain.ts')]).then(([app, bundled]) => ({
    createApp: app.createApp,
    domain: bundled.bundledDomain(),
  }));
  loading.catch(() => {});
  return loading;
}

async function migrate(database: Database): Promise<void> {
  const results = await migrateToLatest(database.db);
  for (const r of results) console.log(`applied ${r.migrationName}`);
  if (results.length === 0) console.log('migrations are current');
}

async function seed(database: Database, options: { customers?: number; seed?: number }): Promise<void> {
  const { bundledDemoData } = await import('./bundled-domain.ts');
  const progress = createProgressReporter();
  try {
    const summary = await bundledDemoData.seed(database, { ...options, onProgress: progress.update });
    progress.stop();
    console.log(
      `seeded ${summary.customers} customers, ${summary.products} products, ${summary.transactions} transactions, ` +
        `${summary.holdings} holdings rows, ${summary.events} events in ${summary.seconds.toFixed(1)} s`,
    );
  } finally {
    progress.stop();
  }
}

/**
 * Serves until a signal stops it. On a PGlite folder, the lock file then records the port
 * and a fresh local credential (admin, accepted only from this machine) with which the CLI
 * sends key and materialization commands to this server instead of opening the folder.
 */
async function serve(
  { createApp, domain }: LoadedApp,
  database: Database,
  config: ServerConfig,
  lock: DataFolderLock | undefined,
  demoKeys: readonly DemoKey[] = [],
): Promise<void> {
  const localToken = lock ? createLocalToken() : undefined;
  if (config.tracing) {
    const { startTracing } = await import('./tracing.ts');
    await startTracing(config.tracing);
  }
  const app = await createApp(database, domain, { ...config, localToken });
  const bound = await app.listen(config.port);
  if (lock && localToken) lock.serving(bound, localToken);
  console.log(`Strata serves GraphQL at http://localhost:${bound}/graphql (${database.engine})`);
  if (config.sqlPort !== null) {
    const sqlPort = await app.listenSql(config.sqlPort);
    console.log(`Strata serves SQL (PostgreSQL protocol) at postgresql://localhost:${sqlPort}/strata (password: an API key)`);
  }
  console.log(
    existsSync(join(CONSOLE_BUILD_DIR, 'index.html'))
      ? `The web console is at http://localhost:${bound}/ (sign in with a key)`
      : 'The web console is not built (`npm run build` builds it)',
  );
  if (demoKeys.length > 0) console.log(demoKeysBanner(demoKeys, bound));
  stopOnSignals(app, database, config.shutdownGraceMs);
}
