/**
 * The decision layer's definitions as plain, serializable data: what operators write through
 * the API (stored in `strata.definitions` under review) and what `decide` reads once published.
 */

/** How impressions are counted against a cap: in one placement, or per content within it. */
export type FatigueScope = 'PLACEMENT' | 'CONTENT';
/** A calendar period cut in the reporting time zone; weeks start on Monday. */
export type CalendarPeriod = 'DAY' | 'WEEK' | 'MONTH';

/**
 * At most `maxImpressions` impressions per customer in the window: the last `windowDays`
 * calendar days including today, or the current `period`, both in the reporting time zone.
 * Exactly one of `windowDays` and `period` is set.
 */
export interface FatigueRule {
  readonly scope: FatigueScope;
  readonly maxImpressions: number;
  readonly windowDays: number | null;
  readonly period: CalendarPeriod | null;
}

/** A slot of an app page (展位) that shows one content per decision. */
export interface PlacementSpec {
  readonly key: string;
  readonly channel: string;
  readonly page: string;
  readonly description: string;
  /** How many contents the page can show at once (decisions fill the first). */
  readonly slots: number;
  /** JSON Schema every content payload of this placement must satisfy. */
  readonly contentSchema: Readonly<Record<string, unknown>>;
  /** The content shown when nothing else is eligible (兜底): never capped, always valid. */
  readonly fallback: string;
  readonly fatigue: readonly FatigueRule[];
}

/** What a placement shows: a payload valid against its placement's schema, within a validity window. */
export interface ContentSpec {
  readonly key: string;
  readonly placement: string;
  readonly description: string;
  readonly payload: unknown;
  /** ISO instants, half-open `[validFrom, validTo)`; null: unbounded. */
  readonly validFrom: string | null;
  readonly validTo: string | null;
}

/**
 * Who sees what in a placement: customers matching the targeting (an audience key, a rule in
 * the condition language over published tags, or everyone when both are null) get the first
 * eligible of `contents`, or an arm of `experiment`.
 */
export interface StrategySpec {
  readonly key: string;
  readonly placement: string;
  readonly description: string;
  readonly audience: string | null;
  /** A rule in API.md's input form. */
  readonly rule: Readonly<Record<string, unknown>> | null;
  readonly contents: readonly string[];
  readonly experiment: string | null;
  /** Higher first. */
  readonly priority: number;
  /** Share (0, 1] of the matching customers this strategy takes, deterministic by customer. */
  readonly trafficShare: number;
  /** ISO instants, half-open `[from, to)`; null: unbounded. */
  readonly scheduleFrom: string | null;
  readonly scheduleTo: string | null;
}

export interface VariantSpec {
  readonly key: string;
  readonly weight: number;
  readonly content: string;
}

/** The goal an experiment is judged by: a semantic-layer metric or a conversion event within `windowDays` of first exposure. */
export interface ExperimentGoal {
  readonly metric: string | null;
  readonly event: string | null;
  readonly windowDays: number;
}

/** An A/B test inside a placement, assigned with GrowthBook's hash v2; the first variant is the control. */
export interface ExperimentSpec {
  readonly key: string;
  readonly placement: string;
  readonly description: string;
  /** Hash seed; defaults to the key. */
  readonly seed: string;
  /** Share of the strategy's customers entering the experiment, 0..1. */
  readonly coverage: number;
  readonly variants: readonly VariantSpec[];
  /** Share of customers held out of every arm (they see what the next strategy or the fallback gives). */
  readonly holdoutShare: number | null;
  readonly goal: ExperimentGoal;
  readonly guardrails: readonly string[];
}

export const DECISION_KINDS = ['placement', 'content', 'strategy', 'experiment'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

export interface DecisionSpecs {
  readonly placement: PlacementSpec;
  readonly content: ContentSpec;
  readonly strategy: StrategySpec;
  readonly experiment: ExperimentSpec;
}

/** A whole set of definitions, e.g. a domain's demo definitions. */
export interface DecisionDefinitions {
  readonly placements: readonly PlacementSpec[];
  readonly contents: readonly ContentSpec[];
  readonly strategies: readonly StrategySpec[];
  readonly experiments: readonly ExperimentSpec[];
}
