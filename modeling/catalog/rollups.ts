import type { Catalog, Metric, Rollup, RollupGrain } from './types.ts';
import { GRAINS } from './types.ts';
import type { ProblemCollector } from './validation-error.ts';

/** Prefix of the hidden metrics counting contributors (small-cell protection): a rollup stores them beside its metrics. */
export const CONTRIBUTORS = '__contributors__';

/**
 * A rollup as stored: one set of dimensions (after `eachOf` and wildcards are expanded), the
 * metric leaves it holds (simple and conversion metrics, reached through ratios and derived
 * metrics), and the physical names of its table and columns.
 */
export interface ConcreteRollup {
  /** The rollup's name, or `<name>__<dimension>` for each entry of `eachOf`. */
  readonly name: string;
  readonly declared: Rollup;
  /** Canonical dimension references (`customer.channel`, `customer.tag.high_value`), in column order. */
  readonly dimensions: readonly string[];
  readonly timeGrain: RollupGrain;
  readonly partitionGrain: RollupGrain;
  /** Schema-qualified parts of the table: `rollups`.`<table>`. */
  readonly table: string;
  readonly dimensionColumns: readonly string[];
  readonly leaves: readonly RollupLeaf[];
  /** A funnel rollup's funnel (no leaves): step counts `c1..cN` and medians `m2..mN` are stored. */
  readonly funnel?: string;
}

/** A metric whose value a rollup stores per period and group: a simple metric (one column) or a conversion (two). */
export interface RollupLeaf {
  readonly metric: string;
  readonly kind: 'simple' | 'conversion';
  /** The stored value (simple), or the conversions (conversion). */
  readonly column: string;
  /** A conversion's opportunities. */
  readonly opportunities?: string;
}

export const ROLLUP_SCHEMA = 'rollups';

/** The grains a rollup's time can be read at: equal, or coarser where every period nests (a week never rolls into a month). */
export function rollsUpTo(stored: RollupGrain, wanted: string): boolean {
  if (stored === wanted) return true;
  if (stored === 'DAY') return ['WEEK', 'MONTH', 'QUARTER', 'YEAR'].includes(wanted);
  if (stored === 'MONTH') return ['QUARTER', 'YEAR'].includes(wanted);
  if (stored === 'QUARTER') return wanted === 'YEAR';
  return false;
}

/** Every rollup of the catalog as stored, dimension wildcards expanded against the catalog's current models (tags). */
export function concreteRollups(catalog: Catalog): readonly ConcreteRollup[] {
  const cached = CACHE.get(catalog);
  if (cached) return cached;
  const out: ConcreteRollup[] = [];
  for (const rollup of catalog.rollups ?? []) {
    const base = rollup.dimensions.map(canonicalDimension);
    if (!rollup.eachOf) out.push(concrete(catalog, rollup, rollup.name, base));
    else
      for (const entry of rollup.eachOf.flatMap((e) => expandWildcard(catalog, e)))
        if (!base.includes(entry)) out.push(concrete(catalog, rollup, `${rollup.name}__${slug(entry)}`, [...base, entry]));
  }
  CACHE.set(catalog, out);
  return out;
}

const CACHE = new WeakMap<Catalog, readonly ConcreteRollup[]>();

function concrete(catalog: Catalog, rollup: Rollup, name: string, dimensions: readonly string[]): ConcreteRollup {
  return {
    name,
    declared: rollup,
    dimensions,
    timeGrain: rollup.timeGrain,
    partitionGrain: rollup.partitionGrain,
    table: physicalName('r_', name, 48),
    dimensionColumns: dimensions.map((d) => physicalName('d_', slug(d), 60)),
    leaves: rollupLeaves(catalog, rollup.metrics),
    ...(rollup.funnel ? { funnel: rollup.funnel } : {}),
  };
}

/** `customer__channel` and `customer.channel` name the same dimension: the dotted form. */
export function canonicalDimension(text: string): string {
  if (text.includes('.')) return text;
  return text.split('__').join('.');
}

/**
 * `customer.tag.*`: every dimension of the model the `tag` join of `customer` reaches, but
 * times and numbers (an amount tag would store a row per distinct amount, not a rollup).
 */
function expandWildcard(catalog: Catalog, entry: string): string[] {
  if (!entry.endsWith('.*')) return [canonicalDimension(entry)];
  const path = entry.slice(0, -2).split('.');
  let model = catalog.models.find((m) => m.name === path[0]);
  for (const step of path.slice(1)) {
    const join = model?.joins.find((j) => j.name === step);
    model = join ? catalog.models.find((m) => m.name === join.model) : undefined;
  }
  return (model?.dimensions ?? []).filter((d) => d.type !== 'time' && d.type !== 'number').map((d) => `${path.join('.')}.${d.name}`);
}

/**
 * The leaves a rollup stores for its metrics: each simple or conversion metric reached from
 * them through ratio and derived inputs, and the hidden contributor count of each (present
 * only in the catalog small-cell protection plans with; a missing one is skipped). Cumulative
 * metrics are never stored: their windows cross periods.
 */
export function rollupLeaves(catalog: Catalog, metrics: readonly string[]): RollupLeaf[] {
  const byName = new Map(catalog.metrics.map((m) => [m.name, m]));
  const leaves = new Map<string, RollupLeaf>();
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const metric: Metric | undefined = byName.get(name);
    if (!metric) return;
    if (metric.type === 'SIMPLE') leaves.set(name, { metric: name, kind: 'simple', column: physicalName('v_', name, 60) });
    if (metric.type === 'CONVERSION')
      leaves.set(name, {
        metric: name,
        kind: 'conversion',
        column: physicalName('v_', `${name}__c`, 60),
        opportunities: physicalName('v_', `${name}__o`, 60),
      });
    if (metric.type === 'RATIO') [metric.numerator, metric.denominator].forEach((i) => visit(i.metric));
    if (metric.type === 'DERIVED') metric.inputs.forEach((i) => visit(i.metric));
    if (!name.startsWith(CONTRIBUTORS)) visit(`${CONTRIBUTORS}${name}`);
  };
  metrics.forEach(visit);
  return [...leaves.values()].sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
}

function slug(text: string): string {
  return text.replace(/[^a-z0-9_]+/gi, '__').toLowerCase();
}

/** A PostgreSQL identifier of at most `max` characters: the name, or its start and a hash when longer. */
function physicalName(prefix: string, name: string, max: number): string {
  const full = `${prefix}${name}`;
  if (full.length <= max) return full;
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const tail = `_${hash.toString(16).padStart(8, '0')}`;
  return `${full.slice(0, max - tail.length)}${tail}`;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/** Checks the declared rollups of a catalog: names, metrics, grains that nest in their partitions. */
export function validateRollups(catalog: Catalog, problems: ProblemCollector): void {
  const metrics = new Map(catalog.metrics.map((m) => [m.name, m]));
  const seen = new Set<string>();
  for (const rollup of catalog.rollups ?? []) {
    const at = `rollups.${rollup.name}`;
    if (!NAME.test(rollup.name)) problems.add(at, 'INVALID_NAME', `rollup name '${rollup.name}' must be snake_case`);
    if (seen.has(rollup.name)) problems.add(at, 'DUPLICATE_NAME', `rollup '${rollup.name}' is defined twice`);
    seen.add(rollup.name);
    if (rollup.funnel !== undefined) validateFunnelRollup(catalog, rollup, problems);
    else if (rollup.metrics.length === 0) problems.add(`${at}.metrics`, 'INVALID_ROLLUP', `rollup '${rollup.name}' names no metric`);
    for (const name of rollup.metrics) {
      const metric = metrics.get(name);
      if (!metric) problems.add(`${at}.metrics`, 'UNKNOWN_METRIC', `metric '${name}' is not defined`);
      else if (metric.type === 'CUMULATIVE')
        problems.add(`${at}.metrics`, 'INVALID_ROLLUP', `metric '${name}' is cumulative: its window crosses periods, so it is answered from raw tables`);
    }
    if (!nests(rollup.timeGrain, rollup.partitionGrain))
      problems.add(
        `${at}.partitionGrain`,
        'INVALID_ROLLUP',
        `a ${rollup.timeGrain} rollup cannot be partitioned by ${rollup.partitionGrain}: its periods must nest in the partitions`,
      );
    if (!Number.isFinite(rollup.refresh.everySeconds) || rollup.refresh.everySeconds < 1)
      problems.add(`${at}.refresh`, 'INVALID_ROLLUP', 'refresh.everySeconds must be at least 1');
    for (const d of [...rollup.dimensions, ...(rollup.eachOf ?? [])])
      if (d.startsWith('metric_time')) problems.add(`${at}.dimensions`, 'INVALID_ROLLUP', 'metric_time is the rollup time grain, not a dimension');
  }
}

/** A funnel rollup: a funnel of the catalog, no metrics, one stored period per partition (each period is one funnel computation). */
function validateFunnelRollup(catalog: Catalog, rollup: Rollup, problems: ProblemCollector): void {
  const at = `rollups.${rollup.name}`;
  if (!catalog.funnels?.some((f) => f.name === rollup.funnel && f.status !== 'ARCHIVED'))
    problems.add(`${at}.funnel`, 'INVALID_ROLLUP', `funnel '${rollup.funnel}' is not defined`);
  if (rollup.metrics.length > 0) problems.add(`${at}.metrics`, 'INVALID_ROLLUP', `rollup '${rollup.name}' stores a funnel: it names no metric`);
  if (rollup.timeGrain !== rollup.partitionGrain)
    problems.add(`${at}.partitionGrain`, 'INVALID_ROLLUP', `a funnel rollup's partitions are its periods: partitionGrain must be ${rollup.timeGrain}`);
}

function nests(time: RollupGrain, partition: RollupGrain): boolean {
  return time === partition || (GRAINS.indexOf(partition) > GRAINS.indexOf(time) && rollsUpTo(time, partition));
}
