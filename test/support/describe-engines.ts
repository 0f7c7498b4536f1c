import { describe } from 'vitest';
import type { Engine } from '../../store/database.ts';
import { isPostgresReachable } from './engines.ts';

/** Every engine a database suite runs on, in order. */
export const ENGINES: readonly Engine[] = ['pglite', 'postgres'];

/**
 * Declares `body` once per engine, as `describe(title)` with `%s` replaced by the engine. A
 * suite that cannot run is declared all the same and reported as skipped, never dropped:
 * PostgreSQL's when it is not reachable (in CI an unreachable PostgreSQL fails the run
 * instead, see `isPostgresReachable`), and every engine's when `options.skipIf` holds.
 *
 * @example
 * ```ts
 * await describeEachEngine('metrics on %s', (engine) => {
 *   beforeAll(async () => { database = await createTestDatabase(engine); });
 * });
 * ```
 */
export async function describeEachEngine(title: string, body: (engine: Engine) => void, options: { skipIf?: boolean } = {}): Promise<void> {
  const postgres = await isPostgresReachable();
  for (const engine of ENGINES) {
    describe.skipIf(options.skipIf === true || (engine === 'postgres' && !postgres))(title.replace('%s', engine), () => body(engine));
  }
}
