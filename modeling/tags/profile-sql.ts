import { sql, type RawBuilder } from 'kysely';
import { aggregateKey, leaves, type AggregateRef, type Rule } from '../conditions/rule.ts';
import { ruleSql, type RuleColumns } from '../conditions/rule-sql.ts';
import { customerAggregateSql, isCounting } from './customer-aggregate-sql.ts';
import { tagLayers } from './check-tag.ts';
import { tagRules, tagValueType, type TagDefinition } from './tag-definition.ts';
import { subjectDimension, subjectOperand, type TagSubject } from './tag-subject.ts';

export interface AudienceRule {
  readonly key: string;
  readonly rule: Rule;
}

/** The inputs every tag and audience reads, gathered once: dimensions, aggregates, top values. */
interface Features {
  /** Tag key -> its column (`t0`, `t1`...): request-defined keys never become identifiers. */
  readonly tags: Map<string, string>;
  readonly dimensions: Map<string, string>;
  readonly aggregates: Map<string, { readonly ref: AggregateRef; readonly column: string }>;
  readonly tops: Map<string, string>;
}

function gatherFeatures(subject: TagSubject, tags: readonly TagDefinition[], audiences: readonly AudienceRule[]): Features {
  const features: Features = { tags: new Map(tags.map((t, i) => [t.key, `t${i}`])), dimensions: new Map(), aggregates: new Map(), tops: new Map() };
  const addAggregate = (ref: AggregateRef) => {
    const key = aggregateKey(ref);
    if (!features.aggregates.has(key)) features.aggregates.set(key, { ref, column: `a${features.aggregates.size}` });
  };
  const rules = [...tags.flatMap((t) => tagRules(t.source)), ...audiences.map((a) => a.rule)];
  for (const leaf of rules.flatMap(leaves)) {
    if (leaf.kind === 'compare' && !features.dimensions.has(leaf.dimension)) {
      subjectDimension(subject, leaf.dimension, 'rule');
      features.dimensions.set(leaf.dimension, `d${features.dimensions.size}`);
    }
    if (leaf.kind === 'aggregate') addAggregate(leaf.aggregate);
  }
  for (const tag of tags) {
    if (tag.source.kind === 'aggregate') addAggregate(tag.source.aggregate);
    if (tag.source.kind === 'top') features.tops.set(tag.key, `top${features.tops.size}`);
  }
  return features;
}

/** The feature CTEs (aggregates, top values, `layer0` with one row per customer). */
function featureCtes(subject: TagSubject, features: Features, orderedTags: readonly TagDefinition[], asOf: string): RawBuilder<unknown>[] {
  const ctes: RawBuilder<unknown>[] = [];
  for (const { ref, column } of features.aggregates.values()) ctes.push(sql`${sql.id(column)} AS (${customerAggregateSql(subject, ref, asOf, `${column}_`)})`);
  for (const tag of orderedTags) {
    const column = features.tops.get(tag.key);
    if (tag.source.kind !== 'top' || !column) continue;
    const grouped = customerAggregateSql(subject, tag.source.aggregate, asOf, `${column}_`, tag.source.by);
    ctes.push(
      sql`${sql.id(column)} AS (SELECT DISTINCT ON (k) k, by_value FROM (${grouped}) AS g WHERE v IS NOT NULL AND by_value IS NOT NULL ORDER BY k, v DESC, by_value COLLATE "C")`,
    );
  }
  const keySql = sql.raw(subject.key);
  const featureColumns = [
    sql`s.${keySql} AS k`,
    ...[...features.dimensions].map(([ref, column]) => sql`${sql.raw(subjectDimension(subject, ref, 'rule').sql)} AS ${sql.id(column)}`),
    ...[...features.aggregates.values()].map(({ ref, column }) =>
      isCounting(subject, ref) ? sql`COALESCE(${sql.ref(`${column}.v`)}, 0) AS ${sql.id(column)}` : sql`${sql.ref(`${column}.v`)} AS ${sql.id(column)}`,
    ),
    ...[...features.tops.values()].map((column) => sql`${sql.ref(`${column}.by_value`)} AS ${sql.id(column)}`),
  ];
  const joins = [...[...features.aggregates.values()].map(({ column }) => column), ...features.tops.values()].map(
    (column) => sql`LEFT JOIN ${sql.id(column)} ON ${sql.ref(`${column}.k`)} = s.${keySql}`,
  );
  const source = 'table' in subject.model.source ? sql.table(subject.model.source.table) : sql`(${sql.raw(subject.model.source.sql)})`;
  ctes.push(sql`layer0 AS (SELECT ${sql.join(featureColumns)} FROM ${source} AS s ${sql.join(joins, sql` `)})`);
  return ctes;
}

/**
 * Every customer's inputs to the tags and audiences, as the in-memory evaluator sees
 * them: `k`, then one column per dimension, aggregate and top value, with their mapping.
 */
export function profileFeaturesSql(subject: TagSubject, orderedTags: readonly TagDefinition[], audiences: readonly AudienceRule[], asOf: string) {
  const features = gatherFeatures(subject, orderedTags, audiences);
  const statement = sql`WITH ${sql.join(featureCtes(subject, features, orderedTags, asOf))} SELECT * FROM layer0`;
  return {
    statement,
    dimensions: Object.fromEntries(features.dimensions),
    aggregates: Object.fromEntries([...features.aggregates].map(([key, a]) => [key, a.column])),
    tops: Object.fromEntries(features.tops),
  };
}

/**
 * Every customer's profile: `k` (the customer key), `tags` (jsonb of every tag value) and
 * `audiences` (keys of the audiences the customer is in). Features (dimensions, windowed
 * aggregates, top values) are gathered once, tags computed in dependency layers on top,
 * all in one set-based statement: the data never leaves the database.
 */
export function profileSql(subject: TagSubject, orderedTags: readonly TagDefinition[], audiences: readonly AudienceRule[], asOf: string): RawBuilder<unknown> {
  const features = gatherFeatures(subject, orderedTags, audiences);
  const ctes = featureCtes(subject, features, orderedTags, asOf);

  const tagTypes = new Map(orderedTags.map((t) => [t.key, tagValueType(t)]));
  const columns: RuleColumns = {
    dimension: (ref) => subjectOperand(subject, ref, 'rule', sql.ref(`prev.${features.dimensions.get(ref)}`)),
    tag: (key) => ({ expr: sql.ref(`prev.${features.tags.get(key)}`), type: tagTypes.get(key) ?? 'string' }),
    aggregate: (ref) => sql.ref(`prev.${features.aggregates.get(aggregateKey(ref))?.column}`),
  };
  const layers = tagLayers(orderedTags);
  layers.forEach((layer, i) => {
    const values = layer.map((tag) => sql`${tagValueSql(tag, columns, features)} AS ${sql.id(features.tags.get(tag.key) as string)}`);
    ctes.push(sql`${sql.id(`layer${i + 1}`)} AS (SELECT prev.*, ${sql.join(values)} FROM ${sql.id(`layer${i}`)} AS prev)`);
  });
  const last = sql.id(`layer${layers.length}`);
  const memberships = audiences.map((a) => sql`CASE WHEN ${ruleSql(a.rule, columns)} THEN CAST(${a.key} AS text) END`);
  const audienceArray = memberships.length > 0 ? sql`array_remove(ARRAY[${sql.join(memberships)}]::text[], NULL)` : sql`ARRAY[]::text[]`;
  return sql`WITH ${sql.join(ctes)} SELECT prev.k, ${tagsJson(orderedTags, features)} AS tags, ${audienceArray} AS audiences FROM ${last} AS prev`;
}

function tagValueSql(tag: TagDefinition, columns: RuleColumns, features: Features): RawBuilder<unknown> {
  const source = tag.source;
  switch (source.kind) {
    case 'rule':
      return sql`(${ruleSql(source.rule, columns)}) IS TRUE`;
    case 'cases': {
      const whens = source.cases.map((c) => sql`WHEN ${ruleSql(c.rule, columns)} THEN CAST(${c.value} AS text)`);
      return sql`CASE ${sql.join(whens, sql` `)} ELSE CAST(${source.otherwise} AS text) END`;
    }
    case 'aggregate':
      return sql`CAST(${columns.aggregate(source.aggregate)} AS numeric)`;
    case 'top':
      return sql.ref(`prev.${features.tops.get(tag.key)}`);
  }
}

/** `jsonb_build_object` over every tag column, chunked (the function takes at most 100 arguments). */
function tagsJson(tags: readonly TagDefinition[], features: Features): RawBuilder<unknown> {
  if (tags.length === 0) return sql`'{}'::jsonb`;
  const chunks: RawBuilder<unknown>[] = [];
  for (let i = 0; i < tags.length; i += 40) {
    const pairs = tags.slice(i, i + 40).flatMap((t) => [sql`CAST(${t.key} AS text)`, sql.ref(`prev.${features.tags.get(t.key)}`)]);
    chunks.push(sql`jsonb_build_object(${sql.join(pairs)})`);
  }
  return sql.join(chunks, sql` || `);
}
