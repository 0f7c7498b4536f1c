import { sql } from 'kysely';
import { checkDefinitionKey } from '../modeling/catalog/definition-text.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { fitLogistic, scoreRow, type SparseRow } from '../modeling/insight/logistic-regression.ts';
import { rankingQuality } from '../modeling/insight/ranking-quality.ts';
import { tagSensitivity } from '../modeling/tags/rule-members.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import { clears, DEFAULT_SENSITIVITY } from '../modeling/catalog/sensitivity.ts';
import { changeDefinition } from '../store/definition-store.ts';
import type { Viewer } from './access.ts';
import { audienceSize, getAudience, type AudienceBody } from './audiences.ts';
import { snapshotDate, withDecileBins } from './customer-groups.ts';
import { MAX_INSIGHT_FEATURES, resolveFeatures, type InsightFeature } from './insight-features.ts';
import { insightRelation } from './insight-relation.ts';
import { lookalikeMembersSql, uniformSql, type FeatureWeight, type LookalikeModel } from './lookalike-model.ts';
import { SNAPSHOT_LOCK } from './profile-materialization.ts';
import { servableRuns } from './snapshot.ts';
import type { TagRuntime } from './tag-runtime.ts';
import { withAnalyticSettings } from './analytic-settings.ts';

/** Fewest seed customers a lookalike learns from (Meta's minimum). */
export const MIN_SEED_CUSTOMERS = 100;
/** Most seed customers, and most other customers, sampled for training. */
const MAX_SEED_SAMPLE = 20_000;
const MAX_OTHER_SAMPLE = 60_000;
/** Share of the sample held out for the quality figures. */
const HOLDOUT_SHARE = 0.2;
const L2 = 1;

export interface LookalikeInput {
  readonly key: string;
  readonly seed: string;
  readonly size: number;
  readonly randomSeed?: number;
  readonly description?: string | null;
  /** Features to learn from; default every customer dimension and published tag the caller is cleared for. */
  readonly features?: readonly string[] | null;
}

export interface LookalikeResult {
  readonly key: string;
  readonly size: number | null;
  readonly model: LookalikeModel;
}

/**
 * Learns which customers resemble a seed audience and saves the `size` most similar outside
 * it as a published audience. An L2 logistic regression (IRLS, `fitLogistic`) over one-hot
 * features is trained on a deterministic sample of the seed against other customers (hashes
 * of the key and `randomSeed`), read in one statement with the features only; a fifth of
 * the sample is held out for AUC, precision at k and top-decile lift. The model's weights
 * become a SQL expression that scores every customer in the database.
 */
export async function createLookalikeAudience(runtime: TagRuntime, viewer: Viewer, input: LookalikeInput): Promise<LookalikeResult> {
  checkDefinitionKey(input.key);
  if (!Number.isInteger(input.size) || input.size < 1 || input.size > 10_000_000)
    throw new StrataError('BAD_USER_INPUT', 'size: a positive integer (customers to select)');
  const randomSeed = input.randomSeed ?? 1;
  if (!Number.isInteger(randomSeed) || randomSeed < 0) throw new StrataError('BAD_USER_INPUT', 'randomSeed: a non-negative integer');
  const seed = await getAudience(runtime, input.seed);
  if (seed.body.lookalike) throw new StrataError('BAD_USER_INPUT', `seed: ${quoteInput(input.seed)} is itself a lookalike; seed with a rule audience`);
  const live = (await runtime.registry()).live;
  const asOf = await snapshotDate(runtime);
  const names = input.features ?? defaultFeatures(runtime, live, viewer);
  let features = resolveFeatures(runtime.subject, live, names, [], viewer);
  const relation = (fs: readonly InsightFeature[]) =>
    insightRelation({
      subject: runtime.subject,
      live,
      features: fs,
      groups: { seed: { kind: 'audience', key: seed.key, rule: null } },
      asOf,
      scope: undefined,
    });
  features = await withDecileBins(runtime, relation(features), features, sql`TRUE`);
  const counts = await runtime.analytics.run((db) =>
    withAnalyticSettings(db, (trx) =>
      sql<{ seed: number; total: number }>`${relation(features)} SELECT COUNT(*) FILTER (WHERE base.seed) AS seed, COUNT(*) AS total FROM base`.execute(trx),
    ),
  );
  const seedCount = Number(counts.rows[0]?.seed ?? 0);
  const others = Number(counts.rows[0]?.total ?? 0) - seedCount;
  if (seedCount < MIN_SEED_CUSTOMERS)
    throw new StrataError('BAD_USER_INPUT', `seed: ${quoteInput(input.seed)} has ${seedCount} customers; a lookalike needs at least ${MIN_SEED_CUSTOMERS}`);
  if (others === 0) throw new StrataError('BAD_USER_INPUT', 'seed: every customer is in the seed; there is nobody to find');
  const seedRate = Math.min(1, MAX_SEED_SAMPLE / seedCount);
  const otherRate = Math.min(1, Math.min(MAX_OTHER_SAMPLE, Math.max(5 * Math.min(seedCount, MAX_SEED_SAMPLE), 10_000)) / others);
  const columns = features.map((_, i) => sql.ref(`base.f${i}`));
  const sample = await runtime.analytics.run((db) =>
    withAnalyticSettings(db, (trx) =>
      sql<Record<string, unknown>>`${relation(features)}
      SELECT ${sql.join(columns)}, base.seed AS label, ${uniformSql(randomSeed, 'holdout')} < ${HOLDOUT_SHARE} AS holdout FROM base
      WHERE ${uniformSql(randomSeed, 'sample')} < CASE WHEN base.seed THEN CAST(${seedRate} AS float8) ELSE CAST(${otherRate} AS float8) END
      ORDER BY base.k`.execute(trx),
    ),
  );
  const model = trainModel(features, sample.rows, randomSeed, { seed: seed.key, size: input.size });
  const saved = await changeDefinition<AudienceBody>(runtime.db, {
    kind: 'audience',
    key: input.key,
    expectedVersion: null,
    actor: viewer.principal.name,
    action: 'create',
    apply: () => ({
      status: 'PUBLISHED',
      body: { description: input.description ?? `lookalike of ${seed.key}`, rule: null, lookalike: model },
      bumpVersion: true,
    }),
  });
  await runtime.analytics.run((db) =>
    db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${SNAPSHOT_LOCK})`.execute(trx);
      for (const run of await servableRuns(trx)) {
        const rows = sql`(SELECT * FROM strata.customer_profiles WHERE run_id = ${run.runId})`;
        await sql`UPDATE strata.customer_profiles SET audiences = array_append(array_remove(audiences, ${saved.key}), ${saved.key})
          WHERE run_id = ${run.runId} AND customer_id IN (${lookalikeMembersSql(runtime.subject, live, model, run.asOf, rows)})`.execute(trx);
      }
    }),
  );
  runtime.invalidate();
  return { key: saved.key, size: await audienceSize(runtime, saved.key, viewer), model };
}

/** Every customer dimension and published tag a viewer is cleared for (times and the key are no features), at most MAX_INSIGHT_FEATURES. */
function defaultFeatures(runtime: TagRuntime, live: ReadonlyMap<string, TagDefinition>, viewer: Viewer): string[] {
  const { subject } = runtime;
  const cleared = (s: Parameters<typeof clears>[1]) => clears(viewer.principal.clearance, s);
  const dimensions = subject.model.dimensions
    .filter((d) => d.type !== 'time' && d.name !== subject.key && cleared(d.sensitivity ?? DEFAULT_SENSITIVITY))
    .map((d) => `${subject.model.name}.${d.name}`);
  const tags = [...live.values()]
    .filter((t) => t.status === 'PUBLISHED' && cleared(tagSensitivity(t, subject, live)))
    .map((t) => `${subject.model.name}.tag.${t.key}`)
    .sort();
  return [...dimensions, ...tags].slice(0, MAX_INSIGHT_FEATURES);
}

/** One-hot columns from the training rows, the fit, and the quality on the held-out rows. */
function trainModel(
  features: readonly InsightFeature[],
  rows: readonly Record<string, unknown>[],
  randomSeed: number,
  target: { seed: string; size: number },
): LookalikeModel {
  const value = (row: Record<string, unknown>, i: number) => (row[`f${i}`] as string | null | undefined) ?? null;
  const training = rows.filter((r) => r.holdout !== true);
  const held = rows.filter((r) => r.holdout === true);
  const vocabulary: FeatureWeight[] = [];
  const index = new Map<string, number>();
  const id = (i: number, v: string | null) => `${i}\u0000${v === null ? '\u0001' : v}`;
  features.forEach((_, i) => {
    const seen = [...new Set(training.map((r) => value(r, i)))].sort((a, b) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1));
    for (const v of seen) {
      index.set(id(i, v), vocabulary.length);
      vocabulary.push({ feature: features[i]?.name ?? '', value: v, weight: 0 });
    }
  });
  const encode = (row: Record<string, unknown>): SparseRow => ({
    columns: features.flatMap((_, i) => {
      const column = index.get(id(i, value(row, i)));
      return column === undefined ? [] : [column];
    }),
    label: row.label === true,
  });
  const fitted = fitLogistic(training.map(encode), vocabulary.length, { l2: L2 });
  const quality = rankingQuality(held.map((r) => ({ score: scoreRow(fitted, encode(r).columns), positive: r.label === true })));
  return {
    seed: target.seed,
    randomSeed,
    size: target.size,
    features,
    intercept: fitted.intercept,
    weights: vocabulary.map((w, i) => ({ ...w, weight: fitted.weights[i] ?? 0 })),
    quality: { ...quality, holdoutCustomers: held.filter((r) => r.label === true).length },
    trainingCustomers: training.length,
  };
}
