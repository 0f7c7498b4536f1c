/**
 * The size limits of every condition Strata reads: rules of tags and audiences
 * (`RuleInput`), metric filters (`FilterInput`, measure and metric filters in code) and
 * MetricFlow filter text. One set of numbers, so a condition that fits one form fits the
 * others; a condition over a limit is refused with a message naming the limit.
 */
export const CONDITION_LIMITS = Object.freeze({
  /** Levels of `and` / `or` / `not` (and parentheses in filter text) below the top. */
  maxDepth: 12,
  /** Comparisons in one condition. */
  maxComparisons: 200,
  /** Values of one comparison (e.g. an `IN` list). */
  maxValues: 1000,
  /** Characters of one value. */
  maxValueLength: 1000,
  /** Characters of MetricFlow filter text. */
  maxFilterTextLength: 20_000,
});

/** A broken limit: the message, and the index of the value at fault when there is one. */
export interface LimitProblem {
  readonly message: string;
  readonly valueIndex?: number;
}

/** Counts what one condition holds while it is read; each method names the limit a node breaks. */
export interface ConditionLimits {
  /** Call on entering a node `depth` levels below the top (the top is 0). */
  depth(depth: number): LimitProblem | undefined;
  /** Call once per comparison. */
  comparison(): LimitProblem | undefined;
  /** Call with the values of one comparison. */
  values(values: readonly string[]): LimitProblem | undefined;
}

/**
 * A fresh counter for one condition; `noun` words the messages (`rules nest at most 12
 * levels deep`, `a filter has at most 200 comparisons`).
 *
 * ```ts
 * const limits = conditionLimits('filter');
 * limits.depth(13); // { message: 'filters nest at most 12 levels deep' }
 * ```
 */
export function conditionLimits(noun: 'rule' | 'filter'): ConditionLimits {
  const { maxDepth, maxComparisons, maxValues, maxValueLength } = CONDITION_LIMITS;
  let comparisons = 0;
  return {
    depth: (depth) => (depth > maxDepth ? { message: `${noun}s nest at most ${maxDepth} levels deep` } : undefined),
    comparison() {
      comparisons += 1;
      return comparisons > maxComparisons ? { message: `a ${noun} has at most ${maxComparisons} comparisons` } : undefined;
    },
    values(values) {
      if (values.length > maxValues) return { message: `a comparison takes at most ${maxValues} values, got ${values.length}` };
      const long = values.findIndex((v) => v.length > maxValueLength);
      return long >= 0 ? { message: `a value has at most ${maxValueLength} characters, got ${values[long]?.length}`, valueIndex: long } : undefined;
    },
  };
}
