import type { ValueFormat } from './locale-format.ts';

/**
 * How a metric's numbers read, from its governed definition: ratios, conversions and
 * growth rates as percentages; amounts the description states in CNY (or as an amount or
 * assets) as money; the rest as plain numbers.
 */
export function metricFormat(metric: { readonly type: string; readonly name: string; readonly description: string } | undefined): ValueFormat {
  if (!metric) return 'number';
  if (metric.type === 'RATIO' || metric.type === 'CONVERSION' || /(_rate|_ctr|growth)/.test(metric.name)) return 'percent';
  if (/\bCNY\b|\bamount\b|assets under management/i.test(metric.description) || /_amount|^aum$|inflow/.test(metric.name)) return 'money';
  return 'number';
}
