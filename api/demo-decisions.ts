import type { Database } from '../store/database.ts';
import type { Domain } from '../modeling/domain/define-domain.ts';
import { seedDecisionDefinitions } from '../services/decision-seed.ts';
import { decisionEnvironment } from '../services/decision-environment.ts';
import { createTagRuntime } from '../services/tag-runtime.ts';
import { tagSubject } from '../modeling/tags/tag-subject.ts';
import { indexCatalog } from '../modeling/catalog/catalog-index.ts';
import { bundledDemoDecisions } from './bundled-domain.ts';

/** Publishes the bundled demo's decision definitions that the database does not hold yet; returns how many. */
export async function seedDemoDecisions(database: Database, domain: Domain): Promise<number> {
  const tags = createTagRuntime(database.db, tagSubject(indexCatalog(domain.catalog), domain.subject), domain.tags);
  return seedDecisionDefinitions(database.db, database.changes, bundledDemoDecisions(), await decisionEnvironment(domain, tags));
}
