import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { concreteRollups, ROLLUP_SCHEMA } from '../catalog/rollups.ts';
import type { Filter } from '../catalog/types.ts';
import type { MetricPlan, PlanNode, PlanRewrite, PlanRollup, PlanValue, TimeOffset } from '../query/metric-plan.ts';

/**
 * A plan as text for people (`strata explain`, like MetricFlow's `mf query --explain`): the
 * query, each node with its inputs, time, filters, joins and offsets, each metric's value
 * over node columns, the rewrites applied and the metric-filter subqueries. Catalog names
 * only; `sources` (admins) adds the physical source of each model read.
 */
export function explainPlan(plan: MetricPlan, sources?: Readonly<Record<string, string>>): string {
  return explainLines(plan, sources).join('\n');
}

function explainLines(plan: MetricPlan, sources: Readonly<Record<string, string>> | undefined): string[] {
  const { query } = plan;
  const lines: string[] = [];
  if (plan.metrics.length > 0) lines.push(`metrics: ${plan.metrics.map((m) => m.name).join(', ')}`);
  if (query.distinctFrom) lines.push(`distinct values from: ${query.distinctFrom}`);
  if (query.groupBy.length > 0) lines.push(`group by: ${query.groupBy.map((g) => g.column).join(', ')}`);
  if (query.where) lines.push(`where: ${filterText(query.where)}`);
  if (query.scope) lines.push(`row scope: ${filterText(query.scope)}`);
  if (query.timeRange) lines.push(`time range: [${query.timeRange.from ?? '-inf'}, ${query.timeRange.to ?? '+inf'})`);
  if (query.orderBy.length > 0) lines.push(`order by: ${query.orderBy.map((o) => `${o.column} ${o.descending ? 'DESC' : 'ASC'}`).join(', ')}`);
  if (query.limit !== undefined || query.offset > 0) lines.push(`limit: ${query.limit ?? 'none'}, offset ${query.offset}`);
  if (plan.nodes.length > 0) lines.push('nodes:');
  for (const node of plan.nodes) lines.push(...nodeLines(node, sources).map((l) => `  ${l}`));
  if (plan.rollup) lines.push(...rollupLines(plan.rollup));
  if (plan.metrics.length > 0) lines.push('values:');
  for (const m of plan.metrics) lines.push(`  ${m.name} = ${valueText(m.value)}`);
  if (plan.rewrites.length > 0) lines.push('rewrites:');
  for (const r of plan.rewrites) lines.push(`  ${rewriteText(r)}`);
  for (const s of plan.subqueries) {
    lines.push(`subquery Metric('${s.metric}', [${s.groupBy.join(', ')}]):`);
    lines.push(...explainLines(s.plan, sources).map((l) => `  ${l}`));
  }
  if (sources && Object.keys(sources).length > 0) {
    lines.push('sources:');
    for (const [model, source] of Object.entries(sources)) lines.push(`  ${model}: ${source}`);
  }
  return lines;
}

function nodeLines(node: PlanNode, sources: Readonly<Record<string, string>> | undefined): string[] {
  const lines: string[] = [];
  switch (node.kind) {
    case 'aggregate':
      lines.push(
        `${node.id} aggregate ${node.model}${sourceOf(node.model, sources)} by ${node.timeDimension || '(no time)'} (${node.timeGrain.toLowerCase()})`,
      );
      for (const c of node.columns) lines.push(`  ${c.column} = ${c.measure.model}.${c.measure.measure}${c.filter ? ` where ${filterText(c.filter)}` : ''}`);
      if (node.nonAdditive) {
        const by = node.nonAdditive.groupings.length > 0 ? ` per ${node.nonAdditive.groupings.join(', ')}` : '';
        lines.push(`  non-additive: rows at the ${node.nonAdditive.window === 'max' ? 'last' : 'first'} ${node.nonAdditive.dimension}${by}`);
      }
      if (node.joinToTimeSpine) lines.push('  joined to the time spine');
      break;
    case 'cumulative':
      lines.push(
        `${node.id} cumulative ${node.metric} over ${node.measure.model}.${node.measure.measure}${sourceOf(node.measure.model, sources)} (${node.timeGrain.toLowerCase()})`,
      );
      lines.push(`  ${node.column} = ${node.metric}`);
      break;
    case 'conversion':
      lines.push(
        `${node.id} conversion ${node.metric}: ${node.base.model}.${node.base.measure}${sourceOf(node.base.model, sources)} -> ${node.conversion.model}.${node.conversion.measure}${sourceOf(node.conversion.model, sources)}`,
      );
      lines.push(`  ${node.opportunities} = opportunities, ${node.conversions} = conversions`);
      break;
  }
  for (const f of node.filters) lines.push(`  filter: ${filterText(f)}`);
  for (const j of node.joins) {
    const version = j.validity ? `, the row valid at each row's time (${j.validity.start} <= t < ${j.validity.end} or open)` : '';
    lines.push(`  join: ${j.path} -> ${j.model}${sourceOf(j.model, sources)}${version}`);
  }
  if (node.offsets.length > 0) lines.push(`  offset: ${node.offsets.map(offsetText).join(', then ')}`);
  return lines;
}

function sourceOf(model: string, sources: Readonly<Record<string, string>> | undefined): string {
  const source = sources?.[model];
  return source ? ` [${source}]` : '';
}

function offsetText(offset: TimeOffset): string {
  if ('toGrain' in offset) return `to the start of the ${offset.toGrain.toLowerCase()}`;
  if ('customGrain' in offset) return `${offset.count} ${offset.customGrain} earlier`;
  return `${offset.count} ${offset.grain.toLowerCase()}${offset.count === 1 ? '' : 's'} earlier`;
}

/** A value tree as an arithmetic expression over `node.column` references. */
export function valueText(value: PlanValue): string {
  switch (value.kind) {
    case 'column':
      return `${value.node}.${value.column}`;
    case 'number':
      return value.text;
    case 'negate':
      return `-(${valueText(value.operand)})`;
    case 'binary':
      return `(${valueText(value.left)} ${value.op} ${valueText(value.right)})`;
    case 'call':
      return `${value.fn}(${value.args.map(valueText).join(', ')})`;
    case 'ratio':
      return `(${valueText(value.numerator)} / NULLIF(${valueText(value.denominator)}, 0))`;
    case 'fill':
      return `COALESCE(${valueText(value.value)}, ${value.fill})`;
  }
}

/** A filter in one line: `listing.country IN (us, fr) AND NOT (...)`. */
export function filterText(filter: Filter): string {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return filter.filters.map((f) => (f.kind === 'and' || f.kind === 'or' ? `(${filterText(f)})` : filterText(f))).join(` ${filter.kind.toUpperCase()} `);
    case 'not':
      return `NOT (${filterText(filter.filter)})`;
    case 'compare':
      return `${filter.dimension}${filter.grain ? `__${filter.grain.toLowerCase()}` : ''} ${filter.op}${valuesText(filter.values)}`;
    case 'metric':
      return `Metric('${filter.metric}', [${filter.groupBy.join(', ')}]) ${filter.op}${valuesText(filter.values)}`;
  }
}

function valuesText(values: readonly string[]): string {
  if (values.length === 0) return '';
  return values.length === 1 ? ` ${JSON.stringify(values[0])}` : ` (${values.map((v) => JSON.stringify(v)).join(', ')})`;
}

function rewriteText(r: PlanRewrite): string {
  switch (r.rewrite) {
    case 'shared_pass':
      return `shared pass (${r.node}): ${r.measures.join(', ')} read in one scan`;
    case 'semi_additive':
      return `semi-additive (${r.node}): only rows at the ${r.window === 'max' ? 'last' : 'first'} ${r.dimension} count`;
    case 'time_spine_join':
      return `time spine join (${r.node}): every period appears, with or without data`;
    case 'time_offset':
      return `time offset (${r.node}): rows of another period`;
    case 'fill_nulls':
      return `fill nulls (${r.metric}): empty values become ${r.fill}`;
    case 'metric_filter_subquery':
      return `metric filter: Metric('${r.metric}', [${r.groupBy.join(', ')}]) is a subquery joined on its group-bys`;
    case 'rollup':
      return `rollup: answered from the precomputed rows of rollup '${r.rollup}' (useRollups: false reads the raw tables)`;
  }
}

function rollupLines(rollup: PlanRollup): string[] {
  const groups = rollup.groupBy.map((g) => (g.kind === 'time' ? `metric_time (${g.grain.toLowerCase()})` : g.dimension));
  return [
    `rollup ${rollup.rollup} (stored by ${rollup.timeGrain.toLowerCase()})${groups.length > 0 ? ` read by ${groups.join(', ')}` : ''}`,
    ...(rollup.where ? [`  filter: ${filterText(rollup.where)}`] : []),
    ...(rollup.range.from || rollup.range.to ? [`  periods: [${rollup.range.from ?? '-inf'}, ${rollup.range.to ?? '+inf'})`] : []),
    ...rollup.columns.map((c) => `  ${c.column} = ${c.reaggregate}(${c.leaf}${c.part === 'value' ? '' : ` ${c.part}`})`),
  ];
}

/** Each model a plan reads (its subqueries' included) with its physical source: for admins only. */
export function planSources(index: CatalogIndex, plan: MetricPlan): Record<string, string> {
  const models = new Set<string>();
  const visit = (p: MetricPlan) => {
    if (p.query.distinctFrom && p.query.distinctFrom !== 'time_spine') models.add(p.query.distinctFrom);
    for (const node of p.nodes) {
      if (node.kind === 'aggregate') models.add(node.model);
      else if (node.kind === 'cumulative') models.add(node.measure.model);
      else models.add(node.base.model).add(node.conversion.model);
      for (const j of node.joins) models.add(j.model);
    }
    for (const s of p.subqueries) visit(s.plan);
  };
  visit(plan);
  const sources: Record<string, string> = {};
  // A rollup's table (the plan names the rollup only).
  if (plan.rollup) {
    const stored = concreteRollups(index.catalog).find((r) => r.name === plan.rollup?.rollup);
    if (stored) sources[`rollup ${stored.name}`] = `${ROLLUP_SCHEMA}.${stored.table}`;
  }
  for (const name of [...models].sort()) {
    const model = index.models.get(name);
    if (model) sources[name] = 'table' in model.source ? model.source.table : '(SQL query)';
  }
  return sources;
}
