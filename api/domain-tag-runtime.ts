import type { Database } from '../store/database.ts';
import { createTagRuntime, type TagRuntime } from '../services/tag-runtime.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { wealthDomain } from '../domains/wealth/index.ts';

/** The bundled domain's tag runtime over a database, for CLI commands that run without a server. */
export function domainTagRuntime(database: Database): TagRuntime {
  const domain = wealthDomain();
  return createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.tagSubject), domain.tags);
}
