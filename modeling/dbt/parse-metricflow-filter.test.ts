import { describe, expect, it } from 'vitest';
import { parseMetricFlowFilter } from './parse-metricflow-filter.ts';
import { FilterSyntaxError } from './filter-lexer.ts';

describe('MetricFlow filter text', () => {
  it('reads templates, comparisons and boolean logic into the closed filter language', () => {
    expect(parseMetricFlowFilter("{{ Dimension('booking__is_instant') }} AND NOT {{ Dimension('listing__country_latest') }} = 'us'")).toEqual({
      kind: 'and',
      filters: [
        { kind: 'compare', dimension: 'booking__is_instant', op: 'EQ', values: ['true'] },
        { kind: 'not', filter: { kind: 'compare', dimension: 'listing__country_latest', op: 'EQ', values: ['us'] } },
      ],
    });
  });

  it('puts a TimeDimension grain and an entity path into the name', () => {
    expect(parseMetricFlowFilter("{{ TimeDimension('metric_time', 'day') }} >= '2020-01-02'")).toEqual({
      kind: 'compare',
      dimension: 'metric_time__day',
      op: 'GTE',
      values: ['2020-01-02'],
    });
    expect(parseMetricFlowFilter("{{ Dimension('country_latest', entity_path=('listing',)) }} = 'us'")).toMatchObject({ dimension: 'listing__country_latest' });
    expect(parseMetricFlowFilter("{{ Dimension('listing__ds').grain('alien_day') }} > '2019-12-20'")).toMatchObject({
      dimension: 'listing__ds__alien_day',
      op: 'GT',
    });
  });

  it('reads IN, IS NOT NULL, BETWEEN with CAST, flipped comparisons and group-by names', () => {
    expect(parseMetricFlowFilter("{{ Dimension('user__home_state_latest') }} IN ('CA', 'HI')")).toMatchObject({ op: 'IN', values: ['CA', 'HI'] });
    expect(parseMetricFlowFilter("{{ Entity('listing') }} IS NOT NULL")).toEqual({ kind: 'compare', dimension: 'listing', op: 'IS_NOT_NULL', values: [] });
    expect(parseMetricFlowFilter("metric_time__day BETWEEN CAST('2020-01-01' AS TIMESTAMP) AND CAST('2020-01-03' AS TIMESTAMP)")).toEqual({
      kind: 'compare',
      dimension: 'metric_time__day',
      op: 'BETWEEN',
      values: ['2020-01-01', '2020-01-03'],
    });
    expect(parseMetricFlowFilter("3 < {{ Dimension('listing__capacity_latest') }}")).toMatchObject({ op: 'GT', values: ['3'] });
  });

  it('reads metric filters by entity', () => {
    expect(parseMetricFlowFilter("{{ Metric('bookings', group_by=['listing']) }} > 2")).toEqual({
      kind: 'metric',
      metric: 'bookings',
      groupBy: ['listing'],
      op: 'GT',
      values: ['2'],
    });
  });

  it('keeps quotes inside literals as values, never as SQL', () => {
    expect(parseMetricFlowFilter("{{ Dimension('a__b') }} = 'x''; DROP TABLE t; --'")).toMatchObject({ values: ["x'; DROP TABLE t; --"] });
  });

  it.each([
    ["{{ Dimension('a__b') }} = 1; DROP TABLE t", 'unexpected character'],
    ["{{ Dimension('a__b') }} = {{ Dimension('a__c') }}", 'literals only'],
    ["{{ Raw('x') }} = 1", 'unknown template'],
    ["'a' = 'b'", 'needs a Dimension'],
    ["{{ Dimension('a__b') }} LIKE '%a%b%'", 'not supported'],
    ['', 'empty'],
  ])('refuses %s', (text, message) => {
    expect(() => parseMetricFlowFilter(text)).toThrow(FilterSyntaxError);
    expect(() => parseMetricFlowFilter(text)).toThrow(message);
  });
});
