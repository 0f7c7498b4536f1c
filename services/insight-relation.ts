import { sql, type RawBuilder } from 'kysely';
import { aggregateKey, leaves, type AggregateRef, type Rule } from '../modeling/conditions/rule.ts';
import { ruleSql, type RuleColumns } from '../modeling/conditions/rule-sql.ts';
import { customerAggregateSql, isCounting } from '../modeling/tags/customer-aggregate-sql.ts';
import { tagValueType, type TagDefinition } from '../modeling/tags/tag-definition.ts';
import { subjectDimension, subjectOperand, type TagSubject } from '../modeling/tags/tag-subject.ts';
import { binLabelSql } from '../modeling/insight/bins.ts';
import type { InsightFeature } from './insight-features.ts';

const CASTS = { boolean: 'boolean', number: 'numeric', string: 'text', time: 'timestamptz' } as const;

/** A group of customers as insight reads it: everyone, a published audience (its members in the snapshot) or a rule. */
export type CustomerGroup =
  | { readonly kind: 'all' }
  | { readonly kind: 'audience'; readonly key: string /** Null for a lookalike, whose members come from a model. */; readonly rule: Rule | null }
  | { readonly kind: 'rule'; readonly rule: Rule };

export interface RelationSpec {
  readonly subject: TagSubject;
  readonly live: ReadonlyMap<string, TagDefinition>;
  readonly features: readonly InsightFeature[];
  /** Boolean columns of the relation, by name (`[a-z_]+`): each true for the customers of its group. */
  readonly groups: Readonly<Record<string, CustomerGroup>>;
  /** Rules read as boolean columns too (a goal), by name. */
  readonly rules?: Readonly<Record<string, Rule>>;
  /** Date of the snapshot: aggregates in rules are computed as of it. */
  readonly asOf: string;
  /** Keys of the customers inside the caller's scope, or none. */
  readonly scope: RawBuilder<unknown> | undefined;
  /** The profile rows read: the current snapshot (default), or one run's rows. */
  readonly profiles?: RawBuilder<unknown>;
  /**
   * Join the subject's table even when nothing reads it (the general shape), for tests that
   * compare the two shapes; by default a relation over tags and audiences only reads the
   * profile rows alone.
   */
  readonly joinSubject?: boolean;
}

/**
 * `WITH ..., base AS (...)`: one row per customer of the current profile snapshot (inside the
 * caller's scope) with `f0`, `f1`... (each feature's value as text; numbers by bin label) and
 * one boolean column per group and rule, never null. Only the subject's own columns, the
 * profile's tags and the aggregates a rule names are read. When no feature, group or rule
 * reads a dimension or an aggregate and no scope applies, the profile rows are read alone,
 * without the join to the subject's table (a hash of every customer, a quarter of the CPU of a
 * comparison at 1,000,000): every profile row was made from a row of that table by its run,
 * and a customer removed from the warehouse since is counted until the next run, as audience
 * sizes and members count it.
 */
export function insightRelation(spec: RelationSpec): RawBuilder<unknown> {
  const { subject } = spec;
  const rules = [...Object.values(spec.groups).flatMap((g) => (g.kind === 'rule' ? [g.rule] : [])), ...Object.values(spec.rules ?? {})];
  const dimensions = new Map<string, string>();
  const aggregates = new Map<string, { ref: AggregateRef; column: string }>();
  for (const f of spec.features) if (f.source.kind === 'dimension' && !dimensions.has(f.source.ref)) dimensions.set(f.source.ref, `d${dimensions.size}`);
  for (const leaf of rules.flatMap(leaves)) {
    if (leaf.kind === 'compare' && !dimensions.has(leaf.dimension)) dimensions.set(leaf.dimension, `d${dimensions.size}`);
    if (leaf.kind === 'aggregate' && !aggregates.has(aggregateKey(leaf.aggregate)))
      aggregates.set(aggregateKey(leaf.aggregate), { ref: leaf.aggregate, column: `a${aggregates.size}` });
  }
  const key = sql.raw(subject.key);
  const source = 'table' in subject.model.source ? sql.table(subject.model.source.table) : sql`(${sql.raw(subject.model.source.sql)})`;
  const subjectColumns = [
    sql`s.${key} AS k`,
    ...[...dimensions].map(([ref, column]) => sql`(${sql.raw(subjectDimension(subject, ref, 'feature').sql)}) AS ${sql.id(column)}`),
  ];
  const readsSubject = spec.joinSubject === true || dimensions.size > 0 || aggregates.size > 0 || spec.scope !== undefined;
  // Joined, each tag read is a column of the profile rows (`t0`, `t1`...; see `narrowProfiles`).
  const tagColumns = new Map<string, string>();
  const tagValue = (tagKey: string) => {
    if (!readsSubject) return sql`p.tags ->> ${tagKey}`;
    if (!tagColumns.has(tagKey)) tagColumns.set(tagKey, `t${tagColumns.size}`);
    return sql.ref(`p.${tagColumns.get(tagKey)}`);
  };
  const tagOperand = (tagKey: string) => {
    const tag = spec.live.get(tagKey);
    const type = tag ? tagValueType(tag) : 'string';
    return { expr: sql`CAST(${tagValue(tagKey)} AS ${sql.raw(CASTS[type])})`, type };
  };
  const columns: RuleColumns = {
    dimension: (ref) => subjectOperand(subject, ref, 'rule', sql.ref(`s.${dimensions.get(ref)}`)),
    tag: tagOperand,
    aggregate: (ref) => {
      const { column } = aggregates.get(aggregateKey(ref)) as { column: string };
      return isCounting(subject, ref) ? sql`COALESCE(${sql.ref(`${column}.v`)}, 0)` : sql.ref(`${column}.v`);
    },
  };
  const featureColumns = spec.features.map((f, i) => {
    const raw = f.source.kind === 'tag' ? tagOperand(f.source.key).expr : sql.ref(`s.${dimensions.get(f.source.ref)}`);
    const value = f.type !== 'number' ? sql`CAST(${raw} AS text)` : f.bins ? binLabelSql(sql`CAST(${raw} AS numeric)`, f.bins) : sql`CAST(${raw} AS numeric)`;
    return sql`${value} AS ${sql.id(`f${i}`)}`;
  });
  const groupColumns = Object.entries(spec.groups).map(([name, g]) => sql`COALESCE(${groupSql(g, columns)}, FALSE) AS ${sql.id(name)}`);
  const ruleColumns = Object.entries(spec.rules ?? {}).map(([name, rule]) => sql`COALESCE(${ruleSql(rule, columns)}, FALSE) AS ${sql.id(name)}`);
  const ctes = [...aggregates.values()].map(({ ref, column }) => sql`${sql.id(column)} AS (${customerAggregateSql(subject, ref, spec.asOf, `${column}_`)})`);
  const joins = [...aggregates.values()].map(({ column }) => sql`LEFT JOIN ${sql.id(column)} ON ${sql.ref(`${column}.k`)} = s.k`);
  const profiles = sql`${spec.profiles ?? sql`strata.current_profiles`} p`;
  const inScope = spec.scope ? sql`AND s.k IN (${spec.scope})` : sql``;
  const from = readsSubject
    ? sql`FROM (SELECT ${sql.join(subjectColumns)} FROM ${source} AS s) AS s
    LEFT JOIN ${narrowProfiles(profiles, tagColumns)} ON p.customer_id = s.k ${sql.join(joins, sql` `)}
    WHERE p.customer_id IS NOT NULL ${inScope}`
    : sql`FROM ${profiles}`;
  ctes.push(sql`base AS (SELECT ${sql.join([readsSubject ? sql`s.k` : sql`p.customer_id AS k`, ...featureColumns, ...groupColumns, ...ruleColumns])}
    ${from})`);
  return sql`WITH ${sql.join(ctes)}`;
}

/**
 * The profile rows as the join reads them: the key, the audiences and one text column per tag
 * read (`t<i>`, `tags ->> key`), extracted while the rows are scanned, so the join never
 * carries the whole tags document (about 240 bytes a customer). PostgreSQL hashes the side it
 * estimates has fewer rows, a near tie between the profiles and the subject's table: hashing
 * the profiles with their tags built a 240 MB parallel hash at 1,000,000 customers (about 1 s
 * of a 2.5 s comparison), 74 MB with the tag columns alone. The planner evaluates a pulled-up
 * subquery's expressions above the join, unless they are PlaceHolderVars: those of the
 * nullable side of an outer join that are not strict (the one-argument COALESCE, an
 * identity), which it computes in the scan. Hence the LEFT JOIN, made an inner join by
 * `WHERE p.customer_id IS NOT NULL` (a profile row's key is never null), which the planner
 * turns back into an inner join, the placeholders kept. A subquery it cannot pull up
 * (`OFFSET 0`) runs the current snapshot's run lookup as its own initPlan, which PostgreSQL
 * (before 17) never runs in parallel.
 */
function narrowProfiles(profiles: RawBuilder<unknown>, tagColumns: ReadonlyMap<string, string>): RawBuilder<unknown> {
  const tags = [...tagColumns].map(([key, column]) => sql`COALESCE(p.tags ->> ${key}) AS ${sql.id(column)}`);
  return sql`(SELECT ${sql.join([sql`p.customer_id`, sql`p.audiences`, ...tags])} FROM ${profiles}) AS p`;
}

function groupSql(group: CustomerGroup, columns: RuleColumns): RawBuilder<unknown> {
  switch (group.kind) {
    case 'all':
      return sql`TRUE`;
    case 'audience':
      return sql`(${group.key} = ANY(p.audiences))`;
    case 'rule':
      return ruleSql(group.rule, columns);
  }
}

/** The deciles (9 cut points, duplicates dropped) of each numeric feature without bins, over the customers of `within`. */
export function decileEdgesSql(relation: RawBuilder<unknown>, features: readonly InsightFeature[], within: RawBuilder<unknown>): RawBuilder<unknown> | null {
  const numeric = features.flatMap((f, i) => (f.type === 'number' && !f.bins ? [i] : []));
  if (numeric.length === 0) return null;
  const cuts = sql`ARRAY[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]::float8[]`;
  const selects = numeric.map((i) => sql`CAST(percentile_disc(${cuts}) WITHIN GROUP (ORDER BY ${sql.ref(`f${i}`)}) AS text[]) AS ${sql.id(`e${i}`)}`);
  return sql`${relation} SELECT ${sql.join(selects)} FROM base WHERE ${within}`;
}
