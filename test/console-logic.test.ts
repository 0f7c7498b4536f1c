import { describe, expect, it } from 'vitest';
import { lastTwoPeriods, nextPeriodStart } from '../console/src/change-periods.ts';
import { withFilters } from '../console/src/cockpit-filters.ts';
import { resultCsv } from '../console/src/csv.ts';
import { formatsFor } from '../console/src/locale-format.ts';
import { metricFormat } from '../console/src/metric-format.ts';
import { diffSincePublished } from '../console/src/review-diff.ts';
import { parseRule, ruleProblems } from '../console/src/rule-check.ts';

/** The console's logic that needs no browser: rule checks, review diffs, CSV, cockpit filters, formats. */
describe('the console’s rule builder checks', () => {
  const tags = new Set(['dormant_90d', 'aum_tier']);
  it('accepts a complete rule and names each problem of an incomplete one by its path', () => {
    expect(
      ruleProblems(
        { and: [{ tag: 'dormant_90d', op: 'EQ', values: ['true'] }, { not: { dimension: 'customer.channel', op: 'IN', values: ['app', 'branch'] } }] },
        tags,
      ),
    ).toEqual([]);
    expect(ruleProblems({ and: [] }, tags)).toEqual(['rule: a group needs at least one condition']);
    expect(ruleProblems({ or: [{ tag: 'dormant_90d', op: 'EQ', values: [] }] }, tags)).toEqual(['rule.or[0]: needs at least one value']);
    expect(ruleProblems({ tag: 'no_such_tag', op: 'EQ', values: ['x'] }, tags)).toEqual(['rule: not a published tag: no_such_tag']);
    expect(ruleProblems({ dimension: 'customer.age', op: 'BETWEEN', values: ['1'] }, tags)).toEqual(['rule: BETWEEN needs two values']);
    expect(ruleProblems({ dimension: 'customer.age', op: 'IS_NULL', values: ['1'] }, tags)).toEqual(['rule: IS_NULL takes no values']);
    expect(ruleProblems({ dimension: 'customer.channel', op: 'EQ', values: ['a', 'b'] }, tags)).toEqual(['rule: EQ takes one value']);
    expect(ruleProblems({ aggregate: { measure: 'transaction.purchase_amount', window: { days: 0 } }, op: 'GT', values: ['x'] }, tags)).toEqual([
      'rule: the window needs at least 1 day',
      'rule: an aggregate compares with numbers',
    ]);
    expect(ruleProblems({ dimension: '', op: 'EQ', values: ['a'] }, tags)).toEqual(['rule: no member chosen']);
    expect(ruleProblems({ and: [{ tag: 'x', dimension: 'customer.channel', op: 'EQ', values: ['a'] }] }, new Set(['x']))).toEqual([
      'rule.and[0]: choose one dimension, tag or aggregate',
    ]);
  });

  it('reads a rule typed as JSON and refuses what is not one', () => {
    expect(parseRule('{"and":[{"tag":"dormant_90d","op":"EQ","values":["true"]}]}')).toEqual({ and: [{ tag: 'dormant_90d', op: 'EQ', values: ['true'] }] });
    expect(() => parseRule('[]')).toThrow('a rule is an object');
    expect(() => parseRule('{"sql":"1=1"}')).toThrow('unknown field sql');
    expect(() => parseRule('{"tag":"a","op":"LIKE","values":["x"]}')).toThrow('unknown op LIKE');
    expect(() => parseRule('{"tag":"a","op":"EQ","values":[1]}')).toThrow('values is a list of strings');
    expect(() => parseRule('{"and":')).toThrow();
  });
});

describe('the review diff against the published version', () => {
  it('folds the changes since the last publication per path, status left out', () => {
    const history = [
      { version: 1, status: 'DRAFT', at: '2026-01-01T00:00:00Z', diff: [{ path: 'rule.values', from: null, to: ['a'] }] },
      { version: 1, status: 'PUBLISHED', at: '2026-01-02T00:00:00Z', diff: [{ path: 'status', from: 'IN_REVIEW', to: 'PUBLISHED' }] },
      { version: 2, status: 'DRAFT', at: '2026-01-03T00:00:00Z', diff: [{ path: 'rule.values', from: ['a'], to: ['b'] }] },
      {
        version: 3,
        status: 'DRAFT',
        at: '2026-01-04T00:00:00Z',
        diff: [
          { path: 'rule.values', from: ['b'], to: ['c'] },
          { path: 'description', from: 'x', to: 'y' },
        ],
      },
      { version: 3, status: 'IN_REVIEW', at: '2026-01-05T00:00:00Z', diff: [{ path: 'status', from: 'DRAFT', to: 'IN_REVIEW' }] },
    ];
    expect(diffSincePublished(history)).toEqual([
      { path: 'rule.values', from: ['a'], to: ['c'] },
      { path: 'description', from: 'x', to: 'y' },
    ]);
    // A change undone is no change.
    expect(
      diffSincePublished([...history, { version: 4, status: 'DRAFT', at: '2026-01-06T00:00:00Z', diff: [{ path: 'description', from: 'y', to: 'x' }] }]),
    ).toEqual([{ path: 'rule.values', from: ['a'], to: ['c'] }]);
    expect(diffSincePublished(history.slice(0, 1))).toBeNull();
  });
});

describe('CSV of a metric result', () => {
  it('quotes what needs quoting and keeps nulls empty, columns in the answer’s order', () => {
    const csv = resultCsv({
      columns: [{ name: 'customer__channel' }, { name: 'purchase_amount' }],
      rows: [
        { customer__channel: 'app, "new"', purchase_amount: 12.5 },
        { customer__channel: null, purchase_amount: null },
      ],
    });
    expect(csv).toBe('customer__channel,purchase_amount\r\n"app, ""new""",12.5\r\n,\r\n');
  });
});

describe('the cockpit’s pickers on a tile’s query', () => {
  it('adds the segment to the tile’s own filter and overrides its range only where a date is picked', () => {
    const query = {
      metrics: ['aum'],
      where: { dimension: 'customer.channel', op: 'EQ' as const, values: ['app'] },
      timeRange: { from: '2026-01-01', to: '2026-02-01' },
    };
    expect(withFilters(query, { from: '', to: '', segment: null })).toEqual(query);
    expect(withFilters(query, { from: '2026-03-01', to: '', segment: { tag: 'aum_tier', value: 'hnw' } })).toEqual({
      metrics: ['aum'],
      where: { and: [query.where, { dimension: 'customer.tag.aum_tier', op: 'EQ', values: ['hnw'] }] },
      timeRange: { from: '2026-03-01', to: '2026-02-01' },
    });
    expect(withFilters({ metrics: ['aum'] }, { from: '', to: '', segment: { tag: 'aum_tier', value: 'hnw' } }).where).toEqual({
      dimension: 'customer.tag.aum_tier',
      op: 'EQ',
      values: ['hnw'],
    });
  });
});

describe('formats per locale in the reporting time zone', () => {
  it('formats money in CNY, percentages, calendar dates and instants per locale', () => {
    const zh = formatsFor('zh-CN', 'Asia/Shanghai');
    const en = formatsFor('en', 'Asia/Shanghai');
    expect(zh.money(1234567.891)).toBe('¥1,234,567.89');
    expect(en.money(1234567.891)).toBe('CN¥1,234,567.89');
    expect(en.percent(0.1234, 1)).toBe('12.3%');
    expect(en.number(null)).toBe('—');
    expect(zh.date('2026-01-31')).toBe('2026年1月31日');
    expect(en.date('2026-01-31')).toBe('Jan 31, 2026');
    // 2026-01-31T20:00Z is already February 1st in Shanghai.
    expect(en.dateTime('2026-01-31T20:00:00Z')).toMatch(/^Feb 1, 2026/);
    expect(en.pValue(0.00001)).toBe('< 0.0001');
    expect(zh.tr('指标', 'Metrics')).toBe('指标');
  });

  it('reads a metric’s format from its governed definition', () => {
    expect(metricFormat({ type: 'RATIO', name: 'placement_ctr', description: 'Placement clicks per impression.' })).toBe('percent');
    expect(metricFormat({ type: 'SIMPLE', name: 'purchase_amount', description: 'Sum of succeeded purchase amounts (CNY).' })).toBe('money');
    expect(metricFormat({ type: 'SIMPLE', name: 'purchasers', description: 'Distinct customers with at least one succeeded purchase.' })).toBe('number');
    expect(metricFormat(undefined)).toBe('number');
  });
});

describe('the periods an explained change compares', () => {
  it('takes the last two periods with rows, the current one cut at the query’s end', () => {
    expect(nextPeriodStart('2026-01-31', 'DAY')).toBe('2026-02-01');
    expect(nextPeriodStart('2026-03-30', 'WEEK')).toBe('2026-04-06');
    expect(nextPeriodStart('2026-11-01', 'QUARTER')).toBe('2027-02-01');
    expect(lastTwoPeriods(['2026-03-01', '2026-01-01', '2026-02-01', '2026-02-01'], 'MONTH')).toEqual({
      base: { from: '2026-02-01', to: '2026-03-01' },
      current: { from: '2026-03-01', to: '2026-04-01' },
    });
    expect(lastTwoPeriods(['2026-02-01', '2026-03-01'], 'MONTH', '2026-03-15')?.current).toEqual({ from: '2026-03-01', to: '2026-03-15' });
    expect(lastTwoPeriods(['2026-03-01'], 'MONTH')).toBeNull();
    expect(() => nextPeriodStart('2026-03-01', 'HOUR')).toThrow('no calendar period for HOUR');
  });
});
