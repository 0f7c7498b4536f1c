import { mergeCatalogs } from '../modeling/catalog/build-catalog.ts';
import type { Catalog } from '../modeling/catalog/types.ts';
import { importDbtProject } from '../modeling/dbt/import-dbt-project.ts';
import { logger } from '../store/logger.ts';
import type { ServerConfig } from './config.ts';

/**
 * The catalog the server serves: the domain's catalog, plus the dbt project named by
 * `STRATA_DBT_PROJECT` (its `$source_schema` read as `STRATA_DBT_SCHEMA`) merged into the
 * same catalog. Model and metric names must not collide; the import fails loudly if they do.
 */
export function servingCatalog(domainCatalog: Catalog, config: Partial<Pick<ServerConfig, 'dbtProject' | 'dbtSchema'>>): Catalog {
  if (!config.dbtProject) return domainCatalog;
  const { catalog, refused } = importDbtProject(config.dbtProject, { schema: config.dbtSchema ?? 'public' });
  for (const r of refused) logger.warn({ at: r.path, code: r.code }, `dbt project: ${r.message}`);
  logger.info({ models: catalog.models.length, metrics: catalog.metrics.length, refused: refused.length }, `serving dbt project ${config.dbtProject}`);
  return mergeCatalogs(domainCatalog, catalog);
}
