/**
 * What experiment results need of an experiment's definition. The definitions themselves
 * (versioned, reviewed, with contents and status) belong to the decision layer's store;
 * results read them through this interface so either side can change its storage.
 */
export interface ExperimentInput {
  readonly key: string;
  /** The first variant is the control. Weights as defined (the SRM check normalizes them). */
  readonly variants: readonly { readonly key: string; readonly weight: number }[];
  /** Exactly one of `metric` (a SIMPLE metric of the semantic layer) or `event` (a conversion event), and the window after the first exposure. */
  readonly goal: { readonly metric?: string | null; readonly event?: string | null; readonly windowDays: number };
  /** Metrics watched for harm, compared per customer like a metric goal. */
  readonly guardrails?: readonly string[];
}

/** Finds the definition of an experiment by key (null: no such experiment). */
export interface ExperimentDefinitionSource {
  get(key: string): Promise<ExperimentInput | null>;
}

/** A source over definitions held in memory (tests, and experiments declared in code). */
export function experimentDefinitionsOf(definitions: readonly ExperimentInput[]): ExperimentDefinitionSource {
  const byKey = new Map(definitions.map((d) => [d.key, d]));
  return { get: async (key) => byKey.get(key) ?? null };
}
