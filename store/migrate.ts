import type { Kysely } from 'kysely';
import { Migrator, NO_MIGRATIONS, type MigrationResult } from 'kysely/migration';
import { migrationProvider, migrations } from '../migrations/index.ts';

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly results: readonly MigrationResult[],
  ) {
    super(message);
  }
}

function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: migrationProvider, migrationTableSchema: 'public' });
}

async function run(step: Promise<{ error?: unknown; results?: MigrationResult[] }>): Promise<readonly MigrationResult[]> {
  const { error, results = [] } = await step;
  if (error) {
    const failed = results.find((r) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`migration ${failed?.migrationName ?? ''} failed: ${reason}`.replace('  ', ' '), results);
  }
  return results;
}

/** Applies every pending migration; returns what ran. */
export function migrateToLatest(db: Kysely<any>): Promise<readonly MigrationResult[]> {
  return run(createMigrator(db).migrateToLatest());
}

/** Reverts the latest applied migration. */
export function migrateDown(db: Kysely<any>): Promise<readonly MigrationResult[]> {
  return run(createMigrator(db).migrateDown());
}

/** Reverts every applied migration. */
export async function migrateToEmpty(db: Kysely<any>): Promise<readonly MigrationResult[]> {
  return run(createMigrator(db).migrateTo(NO_MIGRATIONS));
}

/** True when every known migration has been applied. */
export async function migrationsAreCurrent(db: Kysely<any>): Promise<boolean> {
  const applied = await createMigrator(db).getMigrations();
  return applied.length === Object.keys(migrations).length && applied.every((m) => m.executedAt !== undefined);
}
