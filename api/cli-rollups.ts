import { cliConfig, withDatabase } from './cli-database.ts';
import { chooseSqlDialect } from '../store/sql-dialect.ts';
import { bundledDomain } from './bundled-domain.ts';
import { servingCatalog } from './serving-catalog.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { createSemanticProvider } from '../services/semantic-provider.ts';
import { refreshRollups } from '../services/rollups.ts';

/**
 * `strata rollups refresh`: brings the rollups of the served catalog (published tags
 * included) up to date, recomputing only stale partitions, under the same cluster-wide lock
 * as the servers' refresh workers (when one holds it, says so and does nothing). On PGlite
 * it needs the data folder: a server owning it refreshes its rollups itself.
 */
export async function runRollupsRefresh(options: { only?: string[]; progress?: boolean; since?: string }): Promise<void> {
  const config = cliConfig();
  await withDatabase(config, 'rollups refresh', async (database) => {
    const domain = bundledDomain();
    const catalog = servingCatalog(domain.catalog, config);
    const tags = createTagRuntime(database.db, tagSubject(indexCatalog(catalog), domain.subject), domain.tags);
    const layer = await createSemanticProvider(catalog, domain.subject, tags, { maxRows: 1 }).current();
    const started = performance.now();
    const outcome = await refreshRollups(database.db, layer.index.catalog, {
      subject: domain.subject,
      ...(options.only && options.only.length > 0 ? { only: options.only } : {}),
      ...(options.since ? { since: options.since } : {}),
      postgres: database.engine === 'postgres',
      dialect: await chooseSqlDialect(database, config.sqlDialect),
      statementTimeoutMs: config.materializeStatementTimeoutMs,
      ...(options.progress
        ? {
            onPartition: (p: { rollup: string; period: string; ms: number; shared: number; customers?: number }) =>
              console.log(
                `${p.rollup} ${p.period}: ${(p.ms / 1000).toFixed(1)} s${p.shared > 1 ? ` (one computation for ${p.shared} rollups)` : ''}${p.customers !== undefined ? ` (${p.customers} touched customers recomputed)` : ''}`,
              ),
          }
        : {}),
    });
    if (!outcome.ran) {
      console.log('another process is refreshing the rollups (it holds the refresh lock); nothing done');
      return;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`${outcome.rollups} rollups: ${outcome.partitions} partitions recomputed, ${outcome.rebuilt.length} tables (re)built, in ${seconds} s`);
  });
}
