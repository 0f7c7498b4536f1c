import { changeDefinitionIn, getDefinition } from '../store/definition-store.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { checkDefinitionKey } from '../modeling/catalog/definition-text.ts';
import type { StrategySpec } from '../decisioning/definitions.ts';
import { DECISIONS_CHANNEL, loadDecisionRegistry, type DecisionBody, type StoredDecision } from './decision-registry.ts';
import { saveDecisionDraft, type DecisionCurationContext } from './decision-curation.ts';

export interface StrategyFromAudience {
  readonly audience: string;
  readonly placement: string;
  readonly content: string;
  /** Defaults to `<audience>_on_<placement>` (cut to 63 characters). */
  readonly key?: string | null;
  readonly priority?: number | null;
}

/**
 * 二次运营: a draft strategy showing `content` in `placement` to an audience, in one call; it
 * is reviewed and published like any strategy.
 */
export function createStrategyFromAudience(context: DecisionCurationContext, input: StrategyFromAudience): Promise<StoredDecision<'strategy'>> {
  const key = input.key ?? `${input.audience}_on_${input.placement}`.slice(0, 63);
  checkDefinitionKey(key);
  const spec: StrategySpec = {
    key,
    placement: input.placement,
    description: `Audience '${input.audience}' sees '${input.content}' in '${input.placement}'.`,
    audience: input.audience,
    rule: null,
    contents: [input.content],
    experiment: null,
    priority: input.priority ?? 0,
    trafficShare: 1,
    scheduleFrom: null,
    scheduleTo: null,
  };
  return saveDecisionDraft(context, 'strategy', spec, null);
}

/**
 * Ends an experiment with a winner: every live strategy running it shows the variant's
 * content from now on (a new published version each, action `promote`), and the experiment
 * is retired, in one transaction; the history of each records who promoted which variant.
 */
export async function promoteExperiment(context: DecisionCurationContext, key: string, variantKey: string): Promise<StoredDecision<'strategy'>[]> {
  const experiment = await getDefinition<DecisionBody<'experiment'>>(context.db, 'experiment', key);
  const live = experiment?.body.published && experiment.status !== 'RETIRED' ? experiment.body.published.spec : null;
  if (!experiment || !live) throw new StrataError('NOT_FOUND', `no running experiment ${quoteInput(key)}`);
  const variant = live.variants.find((v) => v.key === variantKey);
  if (!variant)
    throw new StrataError('BAD_USER_INPUT', `experiment '${key}' has no variant ${quoteInput(variantKey)} (${live.variants.map((v) => v.key).join(', ')})`);
  const registry = await loadDecisionRegistry(context.db);
  const running = registry.stored.strategy.filter((s) => s.body.published?.spec.experiment === key && s.status !== 'RETIRED');
  if (running.length === 0) throw new StrataError('CONFLICT', `no live strategy runs experiment '${key}'; nothing to promote into`);
  const reason = `experiment '${key}' promoted variant '${variant.key}' (content '${variant.content}')`;
  return context.db.transaction().execute(async (trx) => {
    const promoted: StoredDecision<'strategy'>[] = [];
    for (const strategy of running) {
      const spec: StrategySpec = { ...(strategy.body.published?.spec as StrategySpec), experiment: null, contents: [variant.content] };
      promoted.push(
        await changeDefinitionIn<DecisionBody<'strategy'>>(trx, {
          kind: 'strategy',
          key: strategy.key,
          expectedVersion: strategy.version,
          actor: context.actor,
          action: 'promote',
          reason,
          apply: (current) => ({ status: 'PUBLISHED', body: { spec, published: { version: (current?.version ?? 0) + 1, spec } }, bumpVersion: true }),
        }),
      );
    }
    await changeDefinitionIn<DecisionBody<'experiment'>>(trx, {
      kind: 'experiment',
      key,
      expectedVersion: experiment.version,
      actor: context.actor,
      action: 'promote',
      reason,
      apply: (current) => ({ status: 'RETIRED', body: current?.body ?? experiment.body, bumpVersion: false }),
    });
    await context.changes.notify(trx, DECISIONS_CHANNEL, `experiment:${key}`);
    return promoted;
  });
}
