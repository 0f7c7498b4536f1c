import { createApp, type App, type AppConfig } from '../../api/app.ts';
import { createApiKey } from '../../store/api-keys.ts';
import { seedDemoData } from '../../domains/wealth/demo-data/seed-demo-data.ts';
import type { Role } from '../../services/authorization.ts';
import type { Engine } from '../../store/database.ts';
import { createTestDatabase, type TestDatabase } from './engines.ts';
import { bundledDomain } from '../../api/bundled-domain.ts';
import { seedDemoDecisions } from '../../api/demo-decisions.ts';
import { seedDemoGoals } from '../../api/demo-goals.ts';

export interface DemoServer<K extends string> {
  readonly database: TestDatabase;
  /** `http://127.0.0.1:<port>` of the running app. */
  readonly base: string;
  /** One API key per name asked for. */
  readonly keys: Record<K, string>;
  /** The running app (its analytics lane, for suites that fill it). */
  readonly app: App;
  /** Stops the app and disposes of the database. */
  close(): Promise<void>;
}

/**
 * A throwaway database with the demo data, the HTTP app serving it in dev mode with
 * credentials required (other settings from `app`), and API keys (`{ name: [key name, role] }`), for suites over HTTP.
 */
export async function startDemoServer<K extends string>(
  engine: Engine,
  options: {
    customers: number;
    seed: number;
    keys: Record<K, readonly [name: string, role: Role]>;
    app?: Partial<AppConfig>;
    /** Also the demo's goals, as `npm start` creates them. */
    goals?: boolean;
  },
): Promise<DemoServer<K>> {
  const database = await createTestDatabase(engine);
  let app: App | undefined;
  try {
    await seedDemoData(database, { customers: options.customers, seed: options.seed });
    // As `npm start` does: the demo's placements, contents, strategies and experiment.
    await seedDemoDecisions(database, bundledDomain());
    if (options.goals) await seedDemoGoals(database, bundledDomain());
    app = await createApp(database, bundledDomain(), { dev: true, maxBodyBytes: 1_000_000, anonymousRole: null, ...options.app });
    const base = `http://127.0.0.1:${await app.listen(0)}`;
    const keys = {} as Record<K, string>;
    for (const [key, [name, role]] of Object.entries(options.keys) as [K, readonly [string, Role]][]) keys[key] = await createApiKey(database.db, name, role);
    const started = app;
    return {
      database,
      base,
      keys,
      app: started,
      close: async () => {
        await started.close();
        await database.dispose();
      },
    };
  } catch (error) {
    await app?.close();
    await database.dispose();
    throw error;
  }
}
