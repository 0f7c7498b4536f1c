import type { Domain } from '../modeling/domain/define-domain.ts';
import type { Database } from '../store/database.ts';
import type { SeedOptions, SeedSummary } from '../domains/wealth/demo-data/seed-demo-data.ts';
import { wealthDomain } from '../domains/wealth/index.ts';
import { wealthDemoDecisions } from '../domains/wealth/decisions.ts';
import type { DecisionDefinitions } from '../decisioning/definitions.ts';

/**
 * The composition root: the one platform module that picks the domain the CLI and the
 * server bundle (the wealth domain of DOMAIN.md) and its demo data. Everything else gets
 * the `Domain` passed in; test/architecture.test.ts refuses other imports of domains/.
 */
let bundled: Domain | undefined;

/** The bundled domain, its catalog built on first use and then shared. */
export function bundledDomain(): Domain {
  bundled ??= wealthDomain();
  return bundled;
}

/** The bundled domain's deterministic demo data, loaded when first used (`strata seed`, `strata start`). */
export const bundledDemoData = {
  /** Whether the bundled domain's warehouse has no data yet. */
  async isEmpty(database: Database): Promise<boolean> {
    return (await import('../domains/wealth/demo-data/seed-demo-data.ts')).isWarehouseEmpty(database);
  },
  /** Loads the demo data into the (empty) warehouse. */
  async seed(database: Database, options: SeedOptions): Promise<SeedSummary> {
    return (await import('../domains/wealth/demo-data/seed-demo-data.ts')).seedDemoData(database, options);
  },
};

/** The bundled domain's demo definitions of the decision layer (placements, contents, strategies, an experiment). */
export function bundledDemoDecisions(): DecisionDefinitions {
  return wealthDemoDecisions;
}
