import { BarChart, FunnelChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import type { Formats, ValueFormat } from './locale.ts';

// Only the parts the console draws: the initial bundle stays small and this chunk loads with the first chart.
echarts.use([LineChart, BarChart, PieChart, FunnelChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export type ChartKind = 'line' | 'bar' | 'stacked_bar' | 'pie' | 'funnel';

/** An ECharts canvas; `label` describes it for screen readers (the numbers are in the table beside it). */
export function Chart({ option, label, height = 280 }: { option: echarts.EChartsCoreOption; label: string; height?: number }) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!element.current) return;
    const instance = echarts.init(element.current, undefined, { renderer: 'canvas' });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);
  return <div ref={element} className="chart" role="img" aria-label={label} style={{ height }} />;
}

type Row = { readonly [column: string]: string | number | boolean | null };
interface Column {
  readonly name: string;
  readonly kind: string;
}

/**
 * A chart of a metric result: the first dimension column along the axis, a second dimension
 * (if any) as one series per value, each metric as a series otherwise.
 */
export function metricOption(
  kind: ChartKind,
  columns: readonly Column[],
  rows: readonly Row[],
  formats: Formats,
  formatOf: (metric: string) => ValueFormat,
): echarts.EChartsCoreOption {
  const dimensions = columns.filter((c) => c.kind === 'DIMENSION').map((c) => c.name);
  const metrics = columns.filter((c) => c.kind === 'METRIC').map((c) => c.name);
  const axis = dimensions[0];
  const split = dimensions[1];
  const label = (value: unknown) =>
    value === null || value === undefined ? '∅' : /^\d{4}-\d{2}-\d{2}$/.test(String(value)) ? formats.date(String(value)) : String(value);
  const categories = axis ? [...new Set(rows.map((r) => label(r[axis])))] : [formats.tr('合计', 'Total')];
  const valueFormatter = (metric: string) => (value: unknown) => formats.value(typeof value === 'number' ? value : null, formatOf(metric));
  const series: { name: string; metric: string; data: (number | null)[] }[] = [];
  for (const metric of metrics) {
    const groups = split ? [...new Set(rows.map((r) => label(r[split])))] : [null];
    for (const group of groups) {
      const data = categories.map((category) => {
        const row = rows.find((r) => (axis ? label(r[axis]) === category : true) && (split ? label(r[split]) === group : true));
        const value = row?.[metric];
        return typeof value === 'number' ? value : null;
      });
      series.push({ name: group === null ? metric : metrics.length > 1 ? `${metric} · ${group}` : group, metric, data });
    }
  }
  if (kind === 'pie' || kind === 'funnel') {
    const first = series[0];
    return {
      tooltip: { trigger: 'item', valueFormatter: valueFormatter(first?.metric ?? '') },
      legend: { type: 'scroll', bottom: 0 },
      series: [
        {
          type: kind,
          radius: kind === 'pie' ? ['35%', '65%'] : undefined,
          data: categories.map((name, i) => ({ name, value: first?.data[i] ?? null })),
        },
      ],
    };
  }
  // Metrics of different kinds (money, counts, rates) get an axis each, two at most: none is flattened by another's scale.
  const firstFormat = formatOf(metrics[0] ?? '');
  const other = metrics.find((m) => formatOf(m) !== firstFormat);
  const axisMetrics = other ? [metrics[0] ?? '', other] : [metrics[0] ?? ''];
  const axisOf = (metric: string) => (other && formatOf(metric) !== firstFormat ? 1 : 0);
  return {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: categories },
    yAxis: axisMetrics.map((metric, i) => ({
      type: 'value',
      splitLine: { show: i === 0 },
      axisLabel: { formatter: (value: number) => formats.compact(value, formatOf(metric)) },
    })),
    series: series.map((s) => ({
      name: s.name,
      type: kind === 'line' ? 'line' : 'bar',
      stack: kind === 'stacked_bar' ? `total-${axisOf(s.metric)}` : undefined,
      yAxisIndex: axisOf(s.metric),
      data: s.data,
      tooltip: { valueFormatter: valueFormatter(s.metric) },
    })),
  };
}
