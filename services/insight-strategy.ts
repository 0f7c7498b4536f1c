import type { Rule } from '../modeling/conditions/rule.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkDefinitionKey } from '../modeling/catalog/definition-text.ts';
import { getDefinition } from '../store/definition-store.ts';
import type { Viewer } from './access.ts';
import { createAudience, getAudience, type StoredAudience } from './audiences.ts';
import type { DecisionCurationContext } from './decision-curation.ts';
import { loadDecisionRegistry, type StoredDecision } from './decision-registry.ts';
import { createStrategyFromAudience } from './decision-reoperation.ts';
import type { TagRuntime } from './tag-runtime.ts';

export interface StrategyFromInsightInput {
  /** An audience insight produced or compared: a lookalike, a comparison's target. */
  readonly audience?: string | null;
  /** A tree node's rule (or a comparison's target rule), saved first as the audience `audienceKey`. */
  readonly rule?: Rule | null;
  readonly audienceKey?: string | null;
  readonly placement: string;
  readonly content: string;
  readonly key?: string | null;
  readonly priority?: number | null;
}

/**
 * 策略生成: a draft strategy for review showing `content` in `placement` to the customers
 * insight found: an existing audience (a lookalike, a comparison's target) or a tree node's
 * rule, saved first as a published audience. Every reference is checked before anything is
 * written, so refused input changes nothing; the draft is then submitted and approved like
 * any strategy.
 */
export async function draftStrategyFromInsight(
  runtime: TagRuntime,
  viewer: Viewer,
  decisions: DecisionCurationContext,
  input: StrategyFromInsightInput,
): Promise<{ audience: StoredAudience; strategy: StoredDecision<'strategy'> }> {
  if ((input.audience != null) === (input.rule != null)) throw new StrataError('BAD_USER_INPUT', 'give exactly one of audience or rule (with audienceKey)');
  if (input.rule != null && input.audienceKey == null)
    throw new StrataError('BAD_USER_INPUT', 'audienceKey: required with a rule (the key of the audience the rule becomes)');
  const audienceKey = input.audience ?? (input.audienceKey as string);
  const strategyKey = input.key ?? `${audienceKey}_on_${input.placement}`.slice(0, 63);
  checkDefinitionKey(strategyKey);
  const registry = await loadDecisionRegistry(decisions.db);
  if (!registry.current.placements.some((p) => p.key === input.placement)) throw new StrataError('NOT_FOUND', `no placement ${quoteInput(input.placement)}`);
  const content = registry.current.contents.find((c) => c.key === input.content);
  if (!content) throw new StrataError('NOT_FOUND', `no content ${quoteInput(input.content)}`);
  if (content.placement !== input.placement)
    throw new StrataError('BAD_USER_INPUT', `content ${quoteInput(input.content)} belongs to placement '${content.placement}', not '${input.placement}'`);
  if (await getDefinition(decisions.db, 'strategy', strategyKey)) throw new StrataError('CONFLICT', `strategy ${quoteInput(strategyKey)} already exists`);
  const audience = input.rule != null ? await createAudience(runtime, viewer, { key: audienceKey, rule: input.rule }) : await getAudience(runtime, audienceKey);
  runtime.invalidate();
  const strategy = await createStrategyFromAudience(decisions, {
    audience: audience.key,
    placement: input.placement,
    content: input.content,
    key: strategyKey,
    priority: input.priority ?? null,
  });
  return { audience, strategy };
}
