import type { Database } from '../store/database.ts';
import { createTagRuntime, type TagRuntime } from '../services/tag-runtime.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';

/** A domain's tag runtime over a database, for CLI commands that run without a server. */
export function domainTagRuntime(database: Database, domain: Domain): TagRuntime {
  return createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.subject), domain.tags);
}
