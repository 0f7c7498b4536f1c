import type { Catalog } from '../modeling/catalog/types.ts';
import { createSemanticLayer, type SemanticLayer } from '../modeling/semantic-layer.ts';
import { withTagDimensions } from '../modeling/tags/tag-dimensions.ts';
import type { TagRuntime } from './tag-runtime.ts';
import { tagSensitivity } from '../modeling/tags/rule-members.ts';
import type { TagRegistry } from './tag-registry.ts';
import { rollupFreshnessCheck } from './rollups.ts';

/**
 * The semantic layer over the served catalog plus the published tags as dimensions
 * (`customer.tag.<key>`). It is rebuilt (with an empty plan cache) only when the set of
 * published tags changes.
 */
export function createSemanticProvider(base: Catalog, subjectName: string, tags: TagRuntime, options: { maxRows: number; rollups?: boolean }) {
  let built: { signature: string; layer: SemanticLayer } | undefined;
  // The registry object is reused until it is reloaded: compare signatures once per reload.
  let checked: TagRegistry | undefined;
  return {
    async current(): Promise<SemanticLayer> {
      const registry = await tags.registry();
      if (built && registry === checked) return built.layer;
      checked = registry;
      // Each tag dimension carries its effective class: as declared, and at least what it reads.
      const live = [...registry.live.values()]
        .filter((t) => t.status === 'PUBLISHED')
        .map((t) => ({ ...t, sensitivity: tagSensitivity(t, tags.subject, registry.live) }));
      const signature = live
        .map((t) => `${t.key}:${t.version}:${t.kind}:${t.sensitivity}`)
        .sort()
        .join(',');
      if (!built || built.signature !== signature) {
        const catalog = withTagDimensions(base, subjectName, live);
        // Rollups answer covered queries (checked fresh before each answer) unless turned off.
        const rollupFreshness = options.rollups === false ? undefined : rollupFreshnessCheck(catalog, subjectName);
        built = {
          signature,
          layer: createSemanticLayer(catalog, { maxRows: options.maxRows, subject: subjectName, ...(rollupFreshness ? { rollupFreshness } : {}) }),
        };
      }
      return built.layer;
    },
  };
}
