import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import { leaves } from '../modeling/conditions/rule.ts';
import { parseRule } from '../modeling/conditions/parse-rule.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkPayload } from '../decisioning/content-schema.ts';
import type { DecisionDefinitions, DecisionKind, DecisionSpecs } from '../decisioning/definitions.ts';

/** What a decision definition may name outside the decision layer. */
export interface DecisionEnvironment {
  readonly channels: readonly string[];
  readonly metrics: ReadonlySet<string>;
  readonly events: ReadonlySet<string>;
  readonly liveTags: ReadonlyMap<string, TagDefinition>;
  readonly audiences: ReadonlySet<string>;
}

function refuse(path: string, message: string): never {
  throw new StrataError('BAD_USER_INPUT', `${path}: ${message}`, { path });
}

/**
 * Checks what a definition names against the published definitions (`live`) and the rest of
 * the platform: its placement, contents of that placement, experiment, audience, the tags of
 * its rule, goal metric or event. Run before publishing against the published definitions
 * (`state: 'published'`), so `decide` serves only complete definitions; a draft's against the
 * working versions of every definition not retired (`'existing'`).
 */
export function checkReferences<K extends DecisionKind>(
  kind: K,
  spec: DecisionSpecs[K],
  live: DecisionDefinitions,
  env: DecisionEnvironment,
  state: 'published' | 'existing' = 'published',
): void {
  const placementOf = (key: string, path: string) => live.placements.find((p) => p.key === key) ?? refuse(path, `no ${state} placement ${quoteInput(key)}`);
  const contentIn = (key: string, placement: string, path: string) => {
    const content = live.contents.find((c) => c.key === key);
    if (!content) refuse(path, `no ${state} content ${quoteInput(key)}`);
    if (content.placement !== placement) refuse(path, `content ${quoteInput(key)} belongs to placement '${content.placement}', not '${placement}'`);
  };
  switch (kind) {
    case 'placement': {
      const placement = spec as DecisionSpecs['placement'];
      if (!env.channels.includes(placement.channel)) refuse('channel', `${quoteInput(placement.channel)} is not a channel (one of ${env.channels.join(', ')})`);
      const fallback = live.contents.find((c) => c.key === placement.fallback);
      if (fallback && fallback.placement !== placement.key) refuse('fallback', `content '${fallback.key}' belongs to placement '${fallback.placement}'`);
      return;
    }
    case 'content': {
      const content = spec as DecisionSpecs['content'];
      checkPayload(placementOf(content.placement, 'placement').contentSchema, content.payload);
      return;
    }
    case 'strategy': {
      const strategy = spec as DecisionSpecs['strategy'];
      placementOf(strategy.placement, 'placement');
      strategy.contents.forEach((key, i) => contentIn(key, strategy.placement, `contents[${i}]`));
      if (strategy.experiment !== null) {
        const experiment = live.experiments.find((e) => e.key === strategy.experiment);
        if (!experiment) refuse('experiment', `no ${state} experiment ${quoteInput(strategy.experiment)}`);
        if (experiment.placement !== strategy.placement) refuse('experiment', `experiment '${experiment.key}' runs in placement '${experiment.placement}'`);
      }
      if (strategy.audience !== null && !env.audiences.has(strategy.audience)) refuse('audience', `no published audience ${quoteInput(strategy.audience)}`);
      if (strategy.rule !== null)
        for (const leaf of leaves(parseRule(strategy.rule)))
          if (leaf.kind === 'tag' && !env.liveTags.has(leaf.tag)) refuse('rule', `no published tag ${quoteInput(leaf.tag)}`);
      return;
    }
    case 'experiment': {
      const experiment = spec as DecisionSpecs['experiment'];
      placementOf(experiment.placement, 'placement');
      experiment.variants.forEach((v, i) => contentIn(v.content, experiment.placement, `variants[${i}].content`));
      if (experiment.goal.metric !== null && !env.metrics.has(experiment.goal.metric)) refuse('goal.metric', `no metric ${quoteInput(experiment.goal.metric)}`);
      if (experiment.goal.event !== null && !env.events.has(experiment.goal.event)) refuse('goal.event', `no event ${quoteInput(experiment.goal.event)}`);
      experiment.guardrails.forEach((m, i) => env.metrics.has(m) || refuse(`guardrails[${i}]`, `no metric ${quoteInput(m)}`));
      return;
    }
  }
}
