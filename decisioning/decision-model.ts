import { evaluateRule, type RuleTypes } from '../modeling/conditions/evaluate-rule.ts';
import { parseRule } from '../modeling/conditions/parse-rule.ts';
import type { Rule } from '../modeling/conditions/rule.ts';
import type { ContentSpec, DecisionDefinitions, ExperimentSpec, PlacementSpec, StrategySpec } from './definitions.ts';

/** What targeting knows of a customer: the current profile (published tags and audience keys), one row. */
export interface TargetedCustomer {
  readonly id: string;
  /** False when the customer has no profile (unknown, or not materialized yet). */
  readonly known: boolean;
  readonly tags: Readonly<Record<string, unknown>>;
  readonly audiences: ReadonlySet<string>;
}

export interface LiveStrategy {
  readonly spec: StrategySpec;
  readonly experiment: ExperimentSpec | null;
  /** Words for the targeting: `audience 'x'`, `rule`, `everyone`. */
  readonly targeting: string;
  matches(customer: TargetedCustomer): boolean;
}

export interface LivePlacement {
  readonly spec: PlacementSpec;
  readonly fallback: ContentSpec;
  readonly contents: ReadonlyMap<string, ContentSpec>;
  /** Highest priority first, then by key. */
  readonly strategies: readonly LiveStrategy[];
}

/** The published definitions compiled for deciding: plain lookups and prepared targeting. */
export interface DecisionModel {
  readonly placements: ReadonlyMap<string, LivePlacement>;
  /** Published placements that cannot be served yet, and why (their fallback content is not published). */
  readonly incomplete: ReadonlyMap<string, string>;
  /** The reporting time zone fatigue days and calendar periods are cut in. */
  readonly timeZone: string;
}

/**
 * Compiles published definitions: each strategy's rule is parsed once and evaluated in
 * memory by the shared evaluator (`evaluateRule`) over the profile's tags; an unknown
 * customer matches no strategy. A placement whose fallback content is not published yet (a
 * placement is approved before its contents) is left out and listed in `incomplete`.
 *
 * ```ts
 * const model = buildDecisionModel(definitions, { dimensionType: () => 'string', tagType: () => 'string' }, 'Asia/Shanghai');
 * ```
 */
export function buildDecisionModel(definitions: DecisionDefinitions, types: RuleTypes, timeZone: string): DecisionModel {
  const experiments = new Map(definitions.experiments.map((e) => [e.key, e]));
  const placements = new Map<string, LivePlacement>();
  const incomplete = new Map<string, string>();
  for (const spec of definitions.placements) {
    const contents = new Map(definitions.contents.filter((c) => c.placement === spec.key).map((c) => [c.key, c]));
    const fallback = contents.get(spec.fallback);
    if (!fallback) {
      incomplete.set(spec.key, `its fallback content '${spec.fallback}' is not published yet`);
      continue;
    }
    const strategies = definitions.strategies
      .filter((s) => s.placement === spec.key)
      .map((s) => liveStrategy(s, s.experiment ? (experiments.get(s.experiment) ?? null) : null, types))
      .sort((a, b) => b.spec.priority - a.spec.priority || (a.spec.key < b.spec.key ? -1 : a.spec.key > b.spec.key ? 1 : 0));
    placements.set(spec.key, { spec, fallback, contents, strategies });
  }
  return { placements, incomplete, timeZone };
}

function liveStrategy(spec: StrategySpec, experiment: ExperimentSpec | null, types: RuleTypes): LiveStrategy {
  if (spec.audience !== null) {
    const audience = spec.audience;
    return { spec, experiment, targeting: `audience '${audience}'`, matches: (c) => c.known && c.audiences.has(audience) };
  }
  if (spec.rule !== null) {
    let rule: Rule;
    try {
      rule = parseRule(spec.rule, `strategy ${spec.key}.rule`);
    } catch (error) {
      // A stored rule the current language refuses serves nobody rather than failing every decision.
      const why = error instanceof Error ? error.message : String(error);
      return { spec, experiment, targeting: `an unreadable rule (${why})`, matches: () => false };
    }
    return {
      spec,
      experiment,
      targeting: `rule ${ruleWords(rule)}`,
      matches: (c) => c.known && evaluateRule(rule, { dimensions: {}, tags: c.tags, aggregates: {} }, types) === true,
    };
  }
  return { spec, experiment, targeting: 'everyone', matches: (c) => c.known };
}

/** A rule in a line for `reason`: `(risk_level IN [C4, C5] AND fund_buyer_30d EQ [false])`. */
function ruleWords(rule: Rule): string {
  switch (rule.kind) {
    case 'and':
    case 'or':
      return `(${rule.filters.map(ruleWords).join(` ${rule.kind.toUpperCase()} `)})`;
    case 'not':
      return `NOT ${ruleWords(rule.filter)}`;
    case 'tag':
      return `${rule.tag} ${rule.op} [${rule.values.join(', ')}]`;
    case 'compare':
      return `${rule.dimension} ${rule.op} [${rule.values.join(', ')}]`;
    case 'aggregate':
      return `${rule.aggregate.measure}(${rule.aggregate.window.days}d) ${rule.op} [${rule.values.join(', ')}]`;
  }
}
