import { describe, expect, it } from 'vitest';
import { CONDITION_LIMITS } from '../catalog/condition-limits.ts';
import { parseRule } from './parse-rule.ts';
import { toFilter, type FilterInput } from '../catalog/filter-input.ts';
import { parseMetricFlowFilter } from '../dbt/parse-metricflow-filter.ts';

const { maxDepth, maxComparisons, maxValues, maxValueLength, maxFilterTextLength } = CONDITION_LIMITS;
const LEAF = { dimension: 'customer.channel', op: 'EQ' as const, values: ['app'] };
const TEXT_LEAF = "{{ Dimension('customer__channel') }} = 'app'";

const nested = (levels: number): Record<string, unknown> => (levels === 0 ? LEAF : { not: nested(levels - 1) });
const orOf = (count: number) => ({ or: Array.from({ length: count }, () => LEAF) });
const inList = (values: string[]) => ({ dimension: 'customer.channel', op: 'IN' as const, values });
const textIn = (values: string[]) => `{{ Dimension('customer__channel') }} IN (${values.map((v) => `'${v}'`).join(', ')})`;

/** The readers of structured conditions (MetricFlow text is read below). */
const readers = {
  rule: (input: Record<string, unknown>) => parseRule(input),
  filter: (input: Record<string, unknown>) => toFilter(input as FilterInput),
};
/** The message (with its path) a reader refuses with, or undefined when it reads. */
function refusal(read: () => unknown): string | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    const path = (error as { path?: unknown }).path;
    return typeof path === 'string' ? `${path}: ${(error as Error).message}` : (error as Error).message;
  }
}

describe('one set of condition limits for rules, filters and MetricFlow filter text', () => {
  it.each(Object.entries(readers))('%s: depth, comparisons, values and value length at and past the limit', (noun, read) => {
    expect(refusal(() => read(nested(maxDepth)))).toBeUndefined();
    expect(refusal(() => read(nested(maxDepth + 1)))).toContain(`${noun}s nest at most ${maxDepth} levels deep`);
    expect(refusal(() => read(orOf(maxComparisons)))).toBeUndefined();
    expect(refusal(() => read(orOf(maxComparisons + 1)))).toContain(`a ${noun} has at most ${maxComparisons} comparisons`);
    expect(refusal(() => read(inList(Array(maxValues).fill('a'))))).toBeUndefined();
    expect(refusal(() => read(inList(Array(maxValues + 1).fill('a'))))).toContain(`at most ${maxValues} values`);
    expect(refusal(() => read(inList(['a', 'b'.repeat(maxValueLength)])))).toBeUndefined();
    expect(refusal(() => read(inList(['a', 'b'.repeat(maxValueLength + 1)])))).toMatch(new RegExp(`values\\[1\\].*at most ${maxValueLength} characters`));
  });

  it('refuses 5,000 levels cleanly in every form, without exhausting the stack', () => {
    expect(refusal(() => parseRule(nested(5000)))).toContain('levels deep');
    expect(refusal(() => toFilter(nested(5000) as FilterInput))).toContain('levels deep');
    expect(refusal(() => parseMetricFlowFilter(`${'('.repeat(5000)}${TEXT_LEAF}${')'.repeat(5000)}`))).toBe(
      `filters nest at most ${maxDepth} levels deep (at character ${maxDepth + 1})`,
    );
    expect(refusal(() => parseMetricFlowFilter(`${'NOT '.repeat(3000)}${TEXT_LEAF}`))).toContain('levels deep');
  });

  it('holds MetricFlow filter text to the same limits, and caps its length', () => {
    expect(refusal(() => parseMetricFlowFilter(`${'('.repeat(maxDepth)}${TEXT_LEAF}${')'.repeat(maxDepth)}`))).toBeUndefined();
    expect(refusal(() => parseMetricFlowFilter(Array(maxComparisons).fill(TEXT_LEAF).join(' OR ')))).toBeUndefined();
    expect(
      refusal(() =>
        parseMetricFlowFilter(
          Array(maxComparisons + 1)
            .fill(TEXT_LEAF)
            .join(' OR '),
        ),
      ),
    ).toContain(`at most ${maxComparisons} comparisons`);
    expect(refusal(() => parseMetricFlowFilter(textIn(Array(maxValues + 1).fill('a'))))).toContain(`at most ${maxValues} values`);
    expect(refusal(() => parseMetricFlowFilter(textIn(['a', 'b'.repeat(maxValueLength + 1)])))).toContain(`at most ${maxValueLength} characters`);
    expect(refusal(() => parseMetricFlowFilter(`${TEXT_LEAF}${' '.repeat(maxFilterTextLength)}`))).toContain(`at most ${maxFilterTextLength} characters`);
  });

  it('echoes at most a short, clean excerpt of the filter text it cannot read', () => {
    const message = refusal(() => parseMetricFlowFilter(`${TEXT_LEAF} AND x = y${'z'.repeat(5000)}`));
    expect(message).toMatch(/compare a name with literals only|expected/);
    expect(refusal(() => parseMetricFlowFilter(`${TEXT_LEAF} ${'w'.repeat(5000)}`))?.length).toBeLessThan(140);
    expect(refusal(() => parseMetricFlowFilter(`${TEXT_LEAF} \u0007`))).toBe(`unexpected character '\ufffd' (at character ${TEXT_LEAF.length + 2})`);
  });
});
