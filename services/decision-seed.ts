import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import { changeDefinitionIn } from '../store/definition-store.ts';
import type { DecisionDefinitions, DecisionKind, DecisionSpecs } from '../decisioning/definitions.ts';
import { checkContent, checkExperiment, checkPlacement, checkStrategy } from '../decisioning/check-specs.ts';
import { DECISIONS_CHANNEL, loadDecisionRegistry, type DecisionBody } from './decision-registry.ts';
import { checkReferences, type DecisionEnvironment } from './decision-references.ts';

/**
 * Publishes a set of definitions (a domain's bundled demo: placements, contents, strategies,
 * experiments) that are not in the database yet, in one transaction, each as version 1
 * recorded in the audit log under `actor` with action `seed`. Each is checked like an
 * operator's definition against the set itself. Definitions already stored (seeded before,
 * or changed by operators since) are left as they are. Returns how many were added.
 */
export async function seedDecisionDefinitions(
  db: Kysely<DatabaseSchema>,
  changes: ChangeFeed,
  definitions: DecisionDefinitions,
  env: DecisionEnvironment,
  actor = 'strata-demo',
): Promise<number> {
  const items: { kind: DecisionKind; spec: DecisionSpecs[DecisionKind] }[] = [
    ...definitions.placements.map((spec) => ({ kind: 'placement' as const, spec })),
    ...definitions.contents.map((spec) => ({ kind: 'content' as const, spec })),
    ...definitions.experiments.map((spec) => ({ kind: 'experiment' as const, spec })),
    ...definitions.strategies.map((spec) => ({ kind: 'strategy' as const, spec })),
  ];
  for (const { kind, spec } of items) {
    if (kind === 'placement') checkPlacement(spec as DecisionSpecs['placement']);
    if (kind === 'content') checkContent(spec as DecisionSpecs['content']);
    if (kind === 'strategy') checkStrategy(spec as DecisionSpecs['strategy']);
    if (kind === 'experiment') checkExperiment(spec as DecisionSpecs['experiment']);
    checkReferences(kind, spec, definitions, env);
  }
  const existing = await loadDecisionRegistry(db);
  const stored = new Set(Object.entries(existing.stored).flatMap(([kind, all]) => all.map((d) => `${kind}:${d.key}`)));
  const missing = items.filter(({ kind, spec }) => !stored.has(`${kind}:${spec.key}`));
  if (missing.length === 0) return 0;
  await db.transaction().execute(async (trx) => {
    for (const { kind, spec } of missing)
      await changeDefinitionIn<DecisionBody<DecisionKind>>(trx, {
        kind,
        key: spec.key,
        expectedVersion: null,
        actor,
        action: 'seed',
        apply: () => ({ status: 'PUBLISHED', body: { spec, published: { version: 1, spec } }, bumpVersion: true }),
      });
    await changes.notify(trx, DECISIONS_CHANNEL, 'seed');
  });
  return missing.length;
}
