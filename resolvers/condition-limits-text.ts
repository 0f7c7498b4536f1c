import { CONDITION_LIMITS } from '../modeling/catalog/condition-limits.ts';

/** The shared condition limits in words, for schema descriptions. */
export function conditionLimitsText(noun: 'rule' | 'filter'): string {
  const { maxDepth, maxComparisons, maxValues, maxValueLength } = CONDITION_LIMITS;
  const n = (value: number) => value.toLocaleString('en-US');
  return `a ${noun} nests at most ${maxDepth} levels deep and holds at most ${maxComparisons} comparisons, each with at most ${n(maxValues)} values of at most ${n(maxValueLength)} characters`;
}
