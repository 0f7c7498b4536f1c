import { assignVariant } from './assignment.ts';
import { localDay } from './calendar-days.ts';
import type { ContentSpec } from './definitions.ts';
import type { LivePlacement, LiveStrategy, TargetedCustomer } from './decision-model.ts';
import { capOf, describeCap, type ImpressionCount } from './fatigue.ts';
import { allocate, trafficPoint } from './traffic.ts';

/** What one placement shows one customer, and why. */
export interface PlacementDecision {
  readonly placement: string;
  readonly content: ContentSpec;
  readonly strategy: string | null;
  readonly experiment: string | null;
  readonly variant: string | null;
  readonly fallback: boolean;
  readonly reason: string;
}

export interface DecisionInput {
  readonly placement: LivePlacement;
  readonly customer: TargetedCustomer;
  /** The customer's impression counters of the days fatigue reads. */
  readonly counts: readonly ImpressionCount[];
  readonly now: Date;
  readonly timeZone: string;
}

const within = (at: number, from: string | null, to: string | null) => (from === null || at >= Date.parse(from)) && (to === null || at < Date.parse(to));

/**
 * Decides one placement for one customer, in memory: the live strategies by priority whose
 * schedule holds now and whose targeting matches, the customer's traffic slice among those
 * of one priority level, the experiment arm by GrowthBook's hash, the first valid content
 * not capped by fatigue; a strategy that yields nothing passes to the next priority level,
 * and when none yields, the placement's fallback (never capped). `reason` says each step.
 *
 * ```ts
 * decidePlacement({ placement, customer, counts: [], now: new Date(), timeZone: 'Asia/Shanghai' }).reason
 * // "strategy 'fund_cross_sell' (priority 20) matched audience 'wealth_product_buyers'; shows 'public_fund_intro'"
 * ```
 */
export function decidePlacement(input: DecisionInput): PlacementDecision {
  const { placement, customer } = input;
  const fallback = (why: string): PlacementDecision => ({
    placement: placement.spec.key,
    content: placement.fallback,
    strategy: null,
    experiment: null,
    variant: null,
    fallback: true,
    reason: `${why}; shows the fallback '${placement.fallback.key}'`,
  });
  if (!customer.known) return fallback(`customer '${customer.id}' has no profile (unknown or not yet materialized)`);
  const at = input.now.getTime();
  const today = localDay(input.now, input.timeZone);
  const notes: string[] = [];
  const levels = priorityLevels(placement.strategies.filter((s) => within(at, s.spec.scheduleFrom, s.spec.scheduleTo) && s.matches(customer)));
  for (const level of levels) {
    const point = trafficPoint(placement.spec.key, level[0]?.spec.priority ?? 0, customer.id);
    const chosen = allocate(
      level.map((s) => ({ key: s.spec.key, share: s.spec.trafficShare, strategy: s })),
      point,
    );
    if (!chosen) {
      notes.push(`${level.map((s) => `'${s.spec.key}'`).join(', ')} matched but the customer is outside ${level.length > 1 ? 'their' : 'its'} traffic share`);
      continue;
    }
    const shown = contentOf(chosen.strategy, input, today, at, notes);
    if (shown) return { placement: placement.spec.key, fallback: false, ...shown, reason: [...notes, shown.reason].join('; ') };
  }
  if (notes.length === 0) notes.push('no live strategy matched');
  return fallback(notes.join('; '));
}

function priorityLevels(strategies: readonly LiveStrategy[]): LiveStrategy[][] {
  const levels: LiveStrategy[][] = [];
  for (const strategy of strategies) {
    const last = levels[levels.length - 1];
    if (last && last[0]?.spec.priority === strategy.spec.priority) last.push(strategy);
    else levels.push([strategy]);
  }
  return levels;
}

type Shown = Omit<PlacementDecision, 'placement' | 'fallback'>;

/** The strategy's content for the customer (its experiment arm, or its first eligible content), or null with a note. */
function contentOf(strategy: LiveStrategy, input: DecisionInput, today: string, at: number, notes: string[]): Shown | null {
  const { spec, experiment } = strategy;
  const matched = `strategy '${spec.key}' (priority ${spec.priority}) matched ${strategy.targeting}`;
  const usable = (key: string): { content: ContentSpec | null; why: string | null } => {
    const content = input.placement.contents.get(key);
    if (!content) return { content: null, why: `content '${key}' is not published` };
    if (!within(at, content.validFrom, content.validTo)) return { content: null, why: `content '${key}' is outside its validity window` };
    const cap = capOf(input.placement.spec, key, input.counts, today);
    return cap ? { content: null, why: `content '${key}' ${describeCap(cap)}` } : { content, why: null };
  };
  if (experiment) {
    const assignment = assignVariant({
      key: experiment.key,
      seed: experiment.seed,
      coverage: experiment.coverage,
      weights: experiment.variants.map((v) => v.weight),
      hashValue: input.customer.id,
      ...(experiment.holdoutShare ? { holdout: { seed: `${experiment.seed}/holdout`, share: experiment.holdoutShare } } : {}),
    });
    const variant = assignment.variantIndex === null ? undefined : experiment.variants[assignment.variantIndex];
    if (!assignment.inExperiment || !variant) {
      notes.push(`${matched}, but the customer is not in experiment '${experiment.key}' (${assignment.reason.replaceAll('_', ' ')})`);
      return null;
    }
    const { content, why } = usable(variant.content);
    if (!content) {
      notes.push(`${matched}, experiment '${experiment.key}' arm '${variant.key}': ${why}`);
      return null;
    }
    return {
      content,
      strategy: spec.key,
      experiment: experiment.key,
      variant: variant.key,
      reason: `${matched}; experiment '${experiment.key}' assigned arm '${variant.key}'; shows '${content.key}'`,
    };
  }
  const skipped: string[] = [];
  for (const key of spec.contents) {
    const { content, why } = usable(key);
    if (content) {
      const passed = skipped.length > 0 ? `; ${skipped.join('; ')}` : '';
      return { content, strategy: spec.key, experiment: null, variant: null, reason: `${matched}${passed}; shows '${content.key}'` };
    }
    if (why) skipped.push(why);
  }
  notes.push(`${matched}, but ${skipped.join('; ') || 'it has no content'}`);
  return null;
}
