/**
 * The catalog: plain, serializable, immutable data that every front end (the TypeScript
 * DSL, steward-defined tags, imported dbt projects) produces and the one compiler reads.
 */
import type { Sensitivity } from './sensitivity.ts';
import type { Condition, ConditionOp, DimensionLeaf, MetricLeaf } from './condition.ts';

export type { Sensitivity } from './sensitivity.ts';

export type Status = 'DRAFT' | 'IN_REVIEW' | 'PUBLISHED' | 'DEPRECATED' | 'ARCHIVED';
export const STATUSES: readonly Status[] = ['DRAFT', 'IN_REVIEW', 'PUBLISHED', 'DEPRECATED', 'ARCHIVED'];

export type Grain = 'MILLISECOND' | 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';
/** Coarsening order: a grain can be rolled up to any grain after it. */
export const GRAINS: readonly Grain[] = ['MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];

export interface Governance {
  readonly description: string;
  readonly owner: string;
  readonly status: Status;
}

/** How a time column is stored: its truncation and range filters depend on it. */
export type TimeStorage = 'timestamptz' | 'timestamp' | 'date';

export type DimensionType = 'string' | 'number' | 'boolean' | 'time';

export interface Dimension {
  readonly name: string;
  readonly type: DimensionType;
  readonly description: string;
  /** SQL expression over the model's columns (from model code, never from a request). */
  readonly sql: string;
  /** For time dimensions: the finest grain the data has and how the column is stored. */
  readonly grain?: Grain;
  readonly storage?: TimeStorage;
  /** A partition column: joins to a model with a partition dimension of the same name also match it. */
  readonly isPartition?: boolean;
  /** Sensitivity class of the values (default `internal`): who may group, filter or order by it. */
  readonly sensitivity?: Sensitivity;
  /** Time dimensions: the class of the values finer than a day (an event's time of day); default as `sensitivity`. */
  readonly subDaySensitivity?: Sensitivity;
}

/** How an entity identifies rows: primary, unique and natural entities name one row each. */
export type EntityType = 'primary' | 'unique' | 'foreign' | 'natural';

/** A key of a model (MetricFlow's entity): joins follow entities, and an entity can be grouped by. */
export interface Entity {
  readonly name: string;
  readonly type: EntityType;
  /** SQL expression over the model's columns; absent for a primary entity named only for paths. */
  readonly sql?: string;
  /** Sensitivity class of the key's values when grouped or filtered by (default `internal`). */
  readonly sensitivity?: Sensitivity;
}

export type Aggregation = 'count' | 'count_distinct' | 'sum' | 'sum_boolean' | 'avg' | 'min' | 'max' | 'median' | 'percentile';

export interface Measure {
  readonly name: string;
  readonly aggregation: Aggregation;
  readonly description: string;
  /** SQL expression aggregated; `*` for count of rows. */
  readonly sql: string;
  /** Row filter applied before aggregation, in the closed filter language. */
  readonly filter?: Filter;
  /** Name of this model's time dimension that places the measure in time. */
  readonly timeDimension?: string;
  readonly percentile?: { readonly fraction: number; readonly discrete: boolean };
  /** Semi-additive: aggregate only the rows at the last (or first) time of each group. */
  readonly nonAdditive?: NonAdditive;
  /** Sensitivity class of the aggregate (default `internal`): who may query metrics over it. */
  readonly sensitivity?: Sensitivity;
  /**
   * Internal, never from a domain: a `count_distinct` computed as a lower bound (the number of
   * 64 hash buckets its values fall in, 0 exactly when there is none): small-cell checks of
   * hidden subject counts, which only ask whether a count reaches a threshold
   * (privacy/contributor-catalog.ts `withContributorCounts(..., { floors: true })`).
   */
  readonly distinctFloor?: true;
}

export interface NonAdditive {
  /** Time dimension of this model along which the measure does not add up. */
  readonly dimension: string;
  readonly window: 'min' | 'max';
  /** Columns (dimension names of this model) that each keep their own last value. */
  readonly groupings: readonly string[];
}

export type Cardinality = 'many_to_one' | 'one_to_one' | 'one_to_many';

export interface Join {
  /** Name by which the joined model is reached from this one (the path step). */
  readonly name: string;
  readonly model: string;
  readonly cardinality: Cardinality;
  /** Pairs of (this model's column SQL, the joined model's column SQL) that must be equal. */
  readonly on: readonly (readonly [string, string])[];
  /** The entity this join follows (imported dbt projects): a path step in `entity__dimension` names. */
  readonly entity?: string;
}

export interface Model extends Governance {
  readonly name: string;
  /** `schema.table`, or a SELECT written by the model author. */
  readonly source: { readonly table: string } | { readonly sql: string };
  readonly primaryKey: readonly string[];
  /** IANA time zone in which time grains are cut for this model. */
  readonly timeZone: string;
  /** The time dimension measures use when they name none. */
  readonly defaultTimeDimension?: string;
  readonly dimensions: readonly Dimension[];
  readonly measures: readonly Measure[];
  readonly joins: readonly Join[];
  /** Entities (imported dbt projects): names usable as group-bys and as the first step of a path. */
  readonly entities?: readonly Entity[];
  /**
   * A slowly changing dimension (type II): each row is one version of its key, valid from
   * `start` (inclusive) until `end` (exclusive; null while current). A join to this model
   * picks the version valid at the fact's time (MetricFlow's `validity_params`).
   */
  readonly validity?: ValidityWindow;
}

/** The two time dimensions (by name) bounding each row's validity. */
export interface ValidityWindow {
  readonly start: string;
  readonly end: string;
}

// ---- the closed filter language (metric query `where`, measure and metric filters) ----

/** The comparison operators of the one condition language (`modeling/conditions/condition.ts`). */
export type FilterOp = ConditionOp;

/** A metric filter: the one condition AST over dimension leaves (with a time grain) and `Metric(...)` leaves. */
export type Filter = Condition<DimensionLeaf<Grain> | MetricLeaf>;

// ---- metrics ----

/**
 * The kind of a metric as the API reports it (`metric.type`): a metric's own `type`, except
 * that a SIMPLE metric over a semi-additive measure is `SEMI_ADDITIVE` (see `metricType`).
 */
export type MetricType = 'SIMPLE' | 'RATIO' | 'DERIVED' | 'CUMULATIVE' | 'SEMI_ADDITIVE' | 'CONVERSION';

interface MetricBase extends Governance {
  readonly name: string;
  readonly label?: string;
  /** Filter applied to every input row of this metric. */
  readonly filter?: Filter;
  /** Value shown for a period or slice without data (e.g. 0); null by default. */
  readonly fillNullsWith?: number;
  /** Grain of `metric_time` when a query names none (MetricFlow's `time_granularity`). */
  readonly defaultGrain?: Grain;
}

/** A measure of a model, as a metric input. */
export interface MeasureInput {
  readonly model: string;
  readonly measure: string;
}

/** A measure as a metric; semi-additive exactly when the measure has `nonAdditive` (one source of truth). */
export interface SimpleMetric extends MetricBase {
  readonly type: 'SIMPLE';
  readonly measure: MeasureInput;
  /** Grouped by metric_time, every period of the time spine appears, with or without data. */
  readonly joinToTimeSpine?: boolean;
}

export interface RatioMetric extends MetricBase {
  readonly type: 'RATIO';
  readonly numerator: MetricInput;
  readonly denominator: MetricInput;
}

export interface MetricInput {
  readonly metric: string;
  readonly filter?: Filter;
  /** Name of this input inside a derived expression (defaults to the metric name). */
  readonly alias?: string;
  /** Value of the input shifted later by this much (e.g. `{ count: 7, grain: 'DAY' }`). */
  readonly offsetWindow?: { readonly count: number; readonly grain: Grain };
  /** Value of the input at the start of the period of this grain (MetricFlow's `offset_to_grain`). */
  readonly offsetToGrain?: Grain;
  /**
   * Value shifted by whole periods of a custom granularity of the time spine (`1 alien_day`):
   * each day takes the value of the day at the same position in the period `count` periods before.
   */
  readonly offsetCustom?: { readonly count: number; readonly granularity: string };
}

/** Arithmetic over input metrics: parsed once, never SQL text. */
export type Expression =
  /** `text` is the literal as written (`1.0`, `2`, `1e3`): its scale and type are kept in SQL. */
  | { readonly kind: 'number'; readonly value: number; readonly text?: string }
  | { readonly kind: 'ref'; readonly name: string }
  | { readonly kind: 'negate'; readonly operand: Expression }
  | { readonly kind: 'binary'; readonly op: '+' | '-' | '*' | '/'; readonly left: Expression; readonly right: Expression }
  | { readonly kind: 'call'; readonly fn: ExpressionFunction; readonly args: readonly Expression[] };

export type ExpressionFunction = 'NULLIF' | 'COALESCE' | 'ABS' | 'GREATEST' | 'LEAST';

export interface DerivedMetric extends MetricBase {
  readonly type: 'DERIVED';
  readonly expression: Expression;
  /** The expression as written, for display. */
  readonly expressionText: string;
  readonly inputs: readonly MetricInput[];
}

export interface CumulativeMetric extends MetricBase {
  readonly type: 'CUMULATIVE';
  readonly measure: MeasureInput;
  /** Trailing window; absent with no grainToDate means all time. */
  readonly window?: { readonly count: number; readonly grain: Grain };
  readonly grainToDate?: Grain;
  /** How daily values roll up to a coarser metric_time grain (default: the period's first day). */
  readonly periodAgg?: 'first' | 'last' | 'average';
  /** Grouped by metric_time, every period of the time spine appears, with or without data. */
  readonly joinToTimeSpine?: boolean;
}

export interface ConversionMetric extends MetricBase {
  readonly type: 'CONVERSION';
  /** Base events: a measure whose rows are the opportunities. */
  readonly base: MeasureInput;
  /** Conversion events: a measure whose rows convert a base event of the same entity. */
  readonly conversion: MeasureInput;
  /** Column (dimension name) identifying the entity in both models. */
  readonly entity: { readonly base: string; readonly conversion: string };
  /**
   * A conversion counts when it happens after the base event, within (min, max]; with
   * `sameTimeCounts` (MetricFlow) a conversion at the base event's time counts and the
   * window is [0, max).
   */
  readonly window: { readonly min?: Duration; readonly max?: Duration; readonly sameTimeCounts?: boolean };
  /** Dimension pairs (base, conversion) that must be equal for a conversion to count. */
  readonly constantProperties?: readonly { readonly base: string; readonly conversion: string }[];
  /** Which base events count: every row, or only each entity's first (ever, or within the period). */
  readonly baseEvents: 'all' | 'first_ever' | 'first_in_period';
  readonly calculation: 'conversion_rate' | 'conversions';
}

export interface Duration {
  readonly count: number;
  readonly grain: Grain;
}

export type Metric = SimpleMetric | RatioMetric | DerivedMetric | CumulativeMetric | ConversionMetric;

/** A table with one row per period of `grain` (MetricFlow's time spine), with custom granularity columns. */
export interface TimeSpine {
  /** `schema.table` */
  readonly table: string;
  readonly column: string;
  readonly grain: Grain;
  /** Custom granularities: a name (`alien_day`) and the column holding each row's period. */
  readonly customGranularities: readonly { readonly name: string; readonly column: string }[];
}

/** A named, reusable metric query (dbt's saved query). */
export interface SavedQuery {
  readonly name: string;
  readonly description: string;
  readonly metrics: readonly string[];
  readonly groupBy: readonly { readonly dimension: string; readonly grain?: Grain; readonly datePart?: string }[];
  readonly where?: Filter;
  readonly orderBy: readonly { readonly field: string; readonly direction: 'ASC' | 'DESC' }[];
  readonly limit?: number;
}

/**
 * The behaviour events funnels read: a model with one row per event, the column naming the
 * subject (the customer) and the dimension naming the event. Time is the model's default
 * time dimension.
 */
export interface EventStream {
  readonly model: string;
  /** The subject's key in the model (`customer_id`): a dimension of the model. */
  readonly entity: string;
  /** The dimension holding the event name (`event_name`). */
  readonly eventName: string;
  /** A `jsonb` column of event properties that step filters may compare as `property.<name>`. */
  readonly properties?: string;
}

/** One step of a funnel: an event, optionally only its occurrences matching a filter. */
export interface FunnelStep {
  readonly event: string;
  readonly filter?: Filter;
  readonly label?: string;
}

/** A named, governed funnel (Amplitude-style ordered steps within a conversion window from entry). */
export interface Funnel {
  readonly name: string;
  readonly label?: string;
  readonly description: string;
  readonly owner: string;
  readonly status: Status;
  readonly steps: readonly FunnelStep[];
  /** Hours after the entry (step 1) within which every later step must occur. */
  readonly windowHours: number;
}

export interface Catalog {
  readonly models: readonly Model[];
  readonly metrics: readonly Metric[];
  readonly timeSpines?: readonly TimeSpine[];
  readonly savedQueries?: readonly SavedQuery[];
  /** The event stream funnels read (none: the catalog answers no funnel). */
  readonly eventStream?: EventStream;
  readonly funnels?: readonly Funnel[];
  /** Precomputed aggregates the compiler answers covered queries from (see `modeling/catalog/rollups.ts`). */
  readonly rollups?: readonly Rollup[];
}

/** Grains a rollup may store its time at (metric_time at this grain, cut in each model's reporting zone). */
export type RollupGrain = 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

/**
 * A declared rollup: the values of `metrics` by metric_time at `timeGrain` and by every
 * dimension of `dimensions`, stored in its own table partitioned by `partitionGrain`. With
 * `eachOf`, one rollup per entry (its dimensions plus that one; `customer.tag.*` is one per
 * published boolean or enum tag of the customer).
 */
export interface Rollup {
  readonly name: string;
  readonly description: string;
  readonly metrics: readonly string[];
  /**
   * A funnel of the catalog whose step counts and medians are stored instead of metrics
   * (`metrics` empty): one row per period of entries and group, as the funnel answers over
   * exactly that period grouped by exactly the rollup's dimensions.
   */
  readonly funnel?: string;
  readonly dimensions: readonly string[];
  readonly eachOf?: readonly string[];
  readonly timeGrain: RollupGrain;
  readonly partitionGrain: RollupGrain;
  readonly refresh: RollupRefresh;
}

export interface RollupRefresh {
  /** How often the refresh worker looks for stale partitions, in seconds. */
  readonly everySeconds: number;
  /** A stale partition in the range read: answer from raw tables (`raw`, exact) or from the rollup with its age (`serve`). */
  readonly whenStale: 'raw' | 'serve';
}
