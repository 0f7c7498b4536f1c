import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import type { TagSubject } from '../modeling/tags/tag-subject.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import { listDefinitions } from '../store/definition-store.ts';
import type { InsightFeature } from './insight-features.ts';
import { insightRelation } from './insight-relation.ts';

export interface LookalikeQuality {
  readonly auc: number | null;
  readonly precisionAtK: number | null;
  readonly liftTopDecile: number | null;
  readonly holdoutCustomers: number;
}

export interface FeatureWeight {
  readonly feature: string;
  /** The value (a bin label for numbers); null for no value. */
  readonly value: string | null;
  readonly weight: number;
}

/** What a lookalike audience stores: its seed, its model (features with their bins, weights) and its measured quality. */
export interface LookalikeModel {
  readonly seed: string;
  readonly randomSeed: number;
  readonly size: number;
  readonly features: readonly InsightFeature[];
  readonly intercept: number;
  /** Every one-hot weight; a value the model never saw weighs 0. */
  readonly weights: readonly FeatureWeight[];
  readonly quality: LookalikeQuality;
  readonly trainingCustomers: number;
}

/** A uniform number in [0, 1) from the customer key, the random seed and a purpose, the same on every engine. */
export function uniformSql(randomSeed: number, purpose: string): RawBuilder<number> {
  return sql<number>`(CAST(CAST(CAST('x' || substr(md5(base.k || ${`:${randomSeed}:${purpose}`}), 1, 8) AS bit(32)) AS bigint) AS float8) / 4294967296.0)`;
}

/** The model's linear score (log-odds) over the relation's feature columns `f0`, `f1`... */
export function scoreSql(model: Pick<LookalikeModel, 'features' | 'intercept' | 'weights'>): RawBuilder<number> {
  const terms = model.features.map((feature, i) => {
    const column = sql.ref(`base.f${i}`);
    const mine = model.weights.filter((w) => w.feature === feature.name && w.weight !== 0);
    const nullWeight = mine.find((w) => w.value === null)?.weight ?? 0;
    const whens = mine.filter((w) => w.value !== null).map((w) => sql`WHEN ${column} = ${w.value} THEN CAST(${w.weight} AS float8)`);
    return sql`CASE WHEN ${column} IS NULL THEN CAST(${nullWeight} AS float8) ${sql.join(whens, sql` `)} ELSE CAST(0 AS float8) END`;
  });
  return sql<number>`(CAST(${model.intercept} AS float8) + ${sql.join(terms, sql` + `)})`;
}

/**
 * The keys of a lookalike's members over some profile rows: the `size` best-scored customers
 * outside the seed (ties broken by a hash of the key and the random seed), selected in the
 * database: no customer row leaves it.
 */
export function lookalikeMembersSql(
  subject: TagSubject,
  live: ReadonlyMap<string, TagDefinition>,
  model: LookalikeModel,
  asOf: string,
  profiles?: RawBuilder<unknown>,
) {
  const relation = insightRelation({
    subject,
    live,
    features: model.features,
    groups: { seed: { kind: 'audience', key: model.seed, rule: null } },
    asOf,
    scope: undefined,
    ...(profiles ? { profiles } : {}),
  });
  return sql`${relation} SELECT base.k FROM base WHERE NOT base.seed ORDER BY ${scoreSql(model)} DESC, ${uniformSql(model.randomSeed, 'tie')}, base.k LIMIT ${model.size}`;
}

/** Published lookalike audiences (read with the caller's connection or transaction). */
export async function publishedLookalikes(db: Kysely<DatabaseSchema>): Promise<{ key: string; model: LookalikeModel }[]> {
  const all = await listDefinitions<{ lookalike?: LookalikeModel }>(db, 'audience');
  return all.flatMap((a) => (a.status === 'PUBLISHED' && a.body.lookalike ? [{ key: a.key, model: a.body.lookalike }] : []));
}

/**
 * Recomputes every lookalike's members in one run's rows with its stored model (a step of
 * materialization, after the rule audiences): a lookalike is refreshed like any audience.
 */
export async function refreshLookalikes(
  trx: Kysely<DatabaseSchema>,
  subject: TagSubject,
  live: ReadonlyMap<string, TagDefinition>,
  run: { runId: number; asOf: string },
): Promise<void> {
  const rows = sql`(SELECT * FROM strata.customer_profiles WHERE run_id = ${run.runId})`;
  for (const { key, model } of await publishedLookalikes(trx)) {
    await sql`UPDATE strata.customer_profiles SET audiences = array_append(array_remove(audiences, ${key}), ${key})
      WHERE run_id = ${run.runId} AND customer_id IN (${lookalikeMembersSql(subject, live, model, run.asOf, rows)})`.execute(trx);
  }
}
