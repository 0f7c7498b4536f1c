import type { Domain } from '../modeling/domain/define-domain.ts';
import { listDefinitions } from '../store/definition-store.ts';
import type { DecisionEnvironment } from './decision-references.ts';
import type { TagRuntime } from './tag-runtime.ts';

/** What decision definitions of `domain` may name now: its channels, metrics and events, live tags, published audiences. */
export async function decisionEnvironment(domain: Domain, tags: TagRuntime): Promise<DecisionEnvironment> {
  const audiences = await listDefinitions(tags.db, 'audience');
  return {
    channels: domain.channels,
    metrics: new Set(domain.catalog.metrics.map((m) => m.name)),
    events: new Set(domain.events.map((e) => e.name)),
    liveTags: (await tags.registry()).live,
    audiences: new Set(audiences.filter((a) => a.status === 'PUBLISHED').map((a) => a.key)),
  };
}
