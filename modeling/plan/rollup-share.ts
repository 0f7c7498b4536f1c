import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import type { ConcreteRollup, RollupLeaf } from '../catalog/rollups.ts';
import type { Model } from '../catalog/types.ts';
import { subjectKey } from '../privacy/contributor-catalog.ts';

/**
 * Rollups refreshed from one shared computation. Rollups storing the same leaves at the same
 * grains, each sliced by dimensions of the subject (its own columns, or a model it reaches
 * one-to-one or many-to-one without validity: its tags), are computed at once for a period
 * by the compiler's plan grouped by all their dimensions together; each rollup's rows are
 * then that intermediate re-aggregated to its own dimensions. Each subject belongs to one
 * combination of the dimensions, so the re-aggregation is exact where a stored column is:
 * sums and counts add up; a distinct count of the subject's key, a conversion whose entity is
 * the subject's key (each base event belongs to one subject) and a contributor count add up
 * too (no subject is counted in two combinations); minimums and maximums take the extreme; a
 * semi-additive measure stored by day over a date column adds up (a day has one last value).
 * Anything else (averages, distinct counts of other columns, a dimension that is not the
 * subject's) keeps its own statement.
 */
export type Reaggregation = 'SUM' | 'MIN' | 'MAX';

/** The key rollups must share to be refreshed together (undefined: the rollup is refreshed alone; a funnel rollup always is, by its funnel's own statement). */
export function shareKey(index: CatalogIndex, rollup: ConcreteRollup, subject: string | undefined): string | undefined {
  if (!subject || !index.models.has(subject) || rollup.funnel) return undefined;
  if (!rollup.dimensions.every((d) => ofSubject(index, subject, d))) return undefined;
  if (!leafReaggregations(index, rollup, subject)) return undefined;
  return JSON.stringify([rollup.leaves.map((l) => l.metric), rollup.timeGrain, rollup.partitionGrain]);
}

/** How each stored value column re-aggregates from a finer grouping by subject dimensions, or undefined when one does not exactly. */
export function leafReaggregations(index: CatalogIndex, rollup: ConcreteRollup, subject: string): Map<string, Reaggregation> | undefined {
  const subjectModel = index.model(subject);
  const keyOf = (model: Model) => subjectKey(model, subjectModel);
  const out = new Map<string, Reaggregation>();
  for (const leaf of rollup.leaves) {
    const how = leafReaggregation(index, rollup, leaf, keyOf);
    if (!how) return undefined;
    out.set(leaf.column, how);
    if (leaf.opportunities) out.set(leaf.opportunities, how);
  }
  return out;
}

function leafReaggregation(
  index: CatalogIndex,
  rollup: ConcreteRollup,
  leaf: RollupLeaf,
  keyOf: (model: Model) => string | undefined,
): Reaggregation | undefined {
  const metric = index.metrics.get(leaf.metric);
  if (metric?.type === 'CONVERSION') {
    const base = index.measure(metric.base).model;
    const conversion = index.measure(metric.conversion).model;
    const entity = (model: Model, name: string) => model.dimensions.find((d) => d.name === name)?.sql;
    const key = keyOf(base);
    return key !== undefined && entity(base, metric.entity.base) === key && entity(conversion, metric.entity.conversion) === keyOf(conversion)
      ? 'SUM'
      : undefined;
  }
  if (metric?.type !== 'SIMPLE' || metric.joinToTimeSpine) return undefined;
  const { model, measure } = index.measure(metric.measure);
  if (measure.nonAdditive) {
    // Stored by day over a date column, a day's rows all sit at its one last (or first) value.
    const time = model.dimensions.find((d) => d.name === measure.nonAdditive?.dimension);
    const own = (measure.timeDimension ?? model.defaultTimeDimension) === measure.nonAdditive.dimension;
    if (rollup.timeGrain !== 'DAY' || !own || time?.storage !== 'date') return undefined;
  }
  switch (measure.aggregation) {
    case 'count':
    case 'sum':
    case 'sum_boolean':
      return 'SUM';
    case 'min':
      return 'MIN';
    case 'max':
      return 'MAX';
    case 'count_distinct':
      return keyOf(model) !== undefined && measure.sql === keyOf(model) ? 'SUM' : undefined;
    default:
      return undefined;
  }
}

/** Whether a dimension (`subject.channel`, `subject.tag.key`) has one value per subject, whatever row it is read from. */
function ofSubject(index: CatalogIndex, subject: string, dimension: string): boolean {
  const [head, ...path] = dimension.split('.');
  const name = path.pop();
  if (head !== subject || !name) return false;
  let model = index.model(subject);
  for (const step of path) {
    const join = model.joins.find((j) => j.name === step);
    const next = join ? index.models.get(join.model) : undefined;
    if (!join || !next || join.cardinality === 'one_to_many' || next.validity) return false;
    model = next;
  }
  const found = model.dimensions.find((d) => d.name === name);
  return found !== undefined && found.type !== 'time';
}

/**
 * The rollups a shared computation serves, cut into groups of at most `maxDimensions`
 * dimensions together (the intermediate has a row per combination of them per period: at
 * day grain it stays small only with few). Rollups without dimensions join the first group.
 */
export function shareGroups(members: readonly ConcreteRollup[], maxDimensions: number): ConcreteRollup[][] {
  const groups: { rollups: ConcreteRollup[]; dimensions: Set<string> }[] = [];
  const sorted = [...members].sort((a, b) => b.dimensions.length - a.dimensions.length);
  for (const rollup of sorted) {
    const fits = groups.find((g) => new Set([...g.dimensions, ...rollup.dimensions]).size <= Math.max(maxDimensions, rollup.dimensions.length));
    if (fits) {
      fits.rollups.push(rollup);
      for (const d of rollup.dimensions) fits.dimensions.add(d);
    } else groups.push({ rollups: [rollup], dimensions: new Set(rollup.dimensions) });
  }
  return groups.map((g) => g.rollups);
}

/**
 * The rollup the shared statement computes: the members' leaves by all their dimensions
 * (never stored), led by the subject's key when it has one: each customer's row carries its
 * combination, the statement's distinct counts and anchors group by one narrow key first,
 * and `sharedRowsSql` collapses the rows to the combinations.
 */
export function sharedRollup(members: readonly ConcreteRollup[], index?: CatalogIndex, subject?: string): ConcreteRollup {
  const [first] = members;
  if (!first) throw new Error('plan invariant: a shared refresh has members');
  const dimensions: string[] = [];
  const dimensionColumns: string[] = [];
  const [key, ...more] = subject && index?.models.has(subject) ? index.model(subject).primaryKey : [];
  if (subject && key && more.length === 0 && ofSubject(index as CatalogIndex, subject, `${subject}.${key}`)) {
    dimensions.push(`${subject}.${key}`);
    dimensionColumns.push(SUBJECT_KEY_COLUMN);
  }
  for (const m of members)
    m.dimensions.forEach((d, i) => {
      if (dimensions.includes(d)) return;
      dimensions.push(d);
      dimensionColumns.push(m.dimensionColumns[i] as string);
    });
  return { ...first, name: `${first.declared.name}__shared`, dimensions, dimensionColumns };
}

/** The column of the subject's key in a shared statement's rows (dropped when they are collapsed). */
export const SUBJECT_KEY_COLUMN = 'shared_subject_key';

/** The shared statement's rows (its columns: period, the dimensions, the values) collapsed to the combinations of the members' dimensions. */
export function sharedRowsSql(shared: ConcreteRollup, statement: RawBuilder<unknown>, reaggregations: ReadonlyMap<string, Reaggregation>): RawBuilder<unknown> {
  const values = shared.leaves.flatMap((l) => [l.column, ...(l.opportunities ? [l.opportunities] : [])]);
  const names = ['period', ...shared.dimensionColumns, ...values].map((c) => sql.id(c));
  const combination = { ...shared, dimensionColumns: shared.dimensionColumns.filter((c) => c !== SUBJECT_KEY_COLUMN) };
  return derivedRowsSql(combination, sql`(${statement}) AS computed (${sql.join(names)})`, reaggregations);
}

/** A member's rows from the shared intermediate `source`: its dimensions, each value re-aggregated. */
export function derivedRowsSql(
  member: ConcreteRollup,
  source: string | RawBuilder<unknown>,
  reaggregations: ReadonlyMap<string, Reaggregation>,
): RawBuilder<unknown> {
  const values = member.leaves.flatMap((l) => [l.column, ...(l.opportunities ? [l.opportunities] : [])]);
  const select = [
    sql.ref('period'),
    ...member.dimensionColumns.map((c) => sql.ref(c)),
    ...values.map((v) => sql`${sql.raw(reaggregations.get(v) ?? 'SUM')}(${sql.ref(v)}) AS ${sql.id(v)}`),
  ];
  const groups = Array.from({ length: 1 + member.dimensionColumns.length }, (_, i) => sql.raw(String(i + 1)));
  return sql`SELECT ${sql.join(select)} FROM ${typeof source === 'string' ? sql.table(source) : source} GROUP BY ${sql.join(groups)}`;
}
