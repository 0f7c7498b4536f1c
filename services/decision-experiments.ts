import type { ExperimentDefinitionSource } from './experiment-definitions.ts';
import type { DecisionCache } from './decision-registry.ts';

/**
 * Experiment results read the decision layer's experiments through this source: the
 * published spec of each experiment, stopped ones included (their results stay readable).
 */
export function decisionExperimentSource(cache: Pick<DecisionCache<unknown>, 'current'>): ExperimentDefinitionSource {
  return {
    async get(key) {
      const { registry } = await cache.current();
      const stored = registry.stored.experiment.find((e) => e.key === key);
      return stored?.body.published?.spec ?? null;
    },
  };
}
