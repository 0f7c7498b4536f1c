import type { Migration, MigrationProvider } from 'kysely/migration';
import * as wealthWarehouse from './0001-wealth-warehouse.ts';
import * as platformDefinitions from './0002-platform-definitions.ts';

/** Every migration, in order. Names sort in application order; add new ones at the end. */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-wealth-warehouse': wealthWarehouse,
  '0002-platform-definitions': platformDefinitions,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};
