import { sql } from 'kysely';
import { cellsToSuppress } from '../modeling/privacy/cell-suppression.ts';
import { benjaminiHochberg, chiSquareTest, cramersV } from '../modeling/insight/statistics.ts';
import type { Viewer } from './access.ts';
import { scopedKeysSql } from './scope-sql.ts';
import type { TagRuntime } from './tag-runtime.ts';
import { resolveFeatures, type FeatureBins, type InsightFeature } from './insight-features.ts';
import { insightRelation } from './insight-relation.ts';
import { resolveGroup, snapshotDate, type AudienceRefInput } from './customer-groups.ts';
import { cubeFeatures, cubeSql, cubeValue, groupedFeature } from './insight-cube.ts';
import { INSIGHT_SETTINGS, withAnalyticSettings } from './analytic-settings.ts';

export interface ComparisonValue {
  readonly feature: string;
  /** The value (a bin label for numbers); null for customers without one. */
  readonly value: string | null;
  readonly targetCustomers: number | null;
  readonly targetShare: number | null;
  readonly referenceCustomers: number | null;
  readonly referenceShare: number | null;
  /** 100 x targetShare / referenceShare. */
  readonly tgi: number | null;
  /** targetShare / the share in the reference minus the target: the ratio the test compares. */
  readonly lift: number | null;
  readonly pValue: number | null;
  readonly qValue: number | null;
  readonly suppressed: boolean;
}

export interface ComparisonFeature {
  readonly feature: string;
  readonly cramersV: number | null;
  readonly chiSquare: number | null;
  readonly degreesOfFreedom: number | null;
  readonly pValue: number | null;
  readonly qValue: number | null;
}

export interface AudienceComparison {
  readonly asOf: string;
  /** Customers of the target and of the reference minus the target; null when under the privacy threshold. */
  readonly targetCustomers: number | null;
  readonly restCustomers: number | null;
  readonly features: readonly ComparisonFeature[];
  readonly values: readonly ComparisonValue[];
}

/** One value's counts: in the target, in the reference, in the reference minus the target. */
interface Cell {
  readonly feature: number;
  readonly value: string | null;
  readonly target: number;
  readonly reference: number;
  readonly rest: number;
}

export interface ComparisonInput {
  readonly target: AudienceRefInput;
  readonly reference: AudienceRefInput;
  readonly features: readonly string[];
  readonly bins?: readonly FeatureBins[];
}

/**
 * The target against the reference minus the target over features (tags and customer
 * dimensions), from the current profile snapshot within the viewer's scope: the counts and
 * the deciles of numeric features in one grouped statement (`cubeSql`: one pass over the
 * customers, then GROUPING SETS over their distinct combinations), the statistics from the
 * counts (`compareCounts`).
 */
export async function audienceComparison(runtime: TagRuntime, viewer: Viewer, input: ComparisonInput): Promise<AudienceComparison> {
  const live = (await runtime.registry()).live;
  let features = resolveFeatures(runtime.subject, live, input.features, input.bins ?? [], viewer);
  const target = await resolveGroup(runtime, input.target, viewer, 'target');
  const reference = await resolveGroup(runtime, input.reference, viewer, 'reference');
  const asOf = await snapshotDate(runtime);
  const scope = scopedKeysSql(runtime.subject, live, viewer.principal.scope);
  const relation = (fs: readonly InsightFeature[]) =>
    insightRelation({ subject: runtime.subject, live, features: fs, groups: { t: target, r: reference }, asOf, scope });
  const statement = cubeSql({
    relation: relation(features),
    features,
    where: sql`t OR r`,
    counts: { target: sql`COUNT(*) FILTER (WHERE t)`, reference: sql`COUNT(*) FILTER (WHERE r)`, rest: sql`COUNT(*) FILTER (WHERE r AND NOT t)` },
  });
  const { rows } = await runtime.analytics.read((db) => withAnalyticSettings(db, (trx) => statement.execute(trx), INSIGHT_SETTINGS));
  const binned = cubeFeatures(features, rows);
  const cells: Cell[] = [];
  let totals = { target: 0, reference: 0, rest: 0 };
  for (const row of rows) {
    const counts = { target: Number(row.target), reference: Number(row.reference), rest: Number(row.rest) };
    const feature = groupedFeature(features.length, Number(row.grouping));
    if (feature < 0) totals = counts;
    else cells.push({ feature, value: cubeValue(features, binned, row, feature), ...counts });
  }
  features = binned;
  return { asOf, ...compareCounts(features, cells, totals, viewer.minSubjects) };
}

/**
 * The statistics of a comparison from its counts: per value shares, TGI, lift and the 2 x 2
 * chi-square p-value (no continuity correction), Benjamini-Hochberg q over every value row
 * (hidden ones included, so hiding never makes the rest look stronger); per feature
 * Cramér's V and the p-value of its whole values x groups table. With a privacy threshold
 * `k`, every row with a count of 1 to k-1 is hidden, with the rows that would reveal it.
 */
export function compareCounts(
  features: readonly InsightFeature[],
  cells: readonly Cell[],
  totals: { target: number; reference: number; rest: number },
  k: number | undefined,
): Omit<AudienceComparison, 'asOf'> {
  const small = (n: number) => k !== undefined && n > 0 && n < k;
  const hideAll = small(totals.target) || small(totals.rest) || small(totals.reference);
  const ordered = [...cells].filter((c) => c.target > 0 || c.reference > 0 || c.rest > 0);
  const hidden = new Set<Cell>();
  features.forEach((_, i) => {
    const mine = ordered.filter((c) => c.feature === i);
    const flags = hideAll
      ? mine.map(() => true)
      : k === undefined
        ? mine.map(() => false)
        : cellsToSuppress(
            mine.map((c) => [c.target, c.reference, c.rest]),
            k,
          );
    mine.forEach((c, j) => flags[j] && hidden.add(c));
  });
  const pValues = ordered.map(
    (c) =>
      chiSquareTest([
        [c.target, totals.target - c.target],
        [c.rest, totals.rest - c.rest],
      ])?.pValue ?? null,
  );
  const qValues = benjaminiHochberg(pValues);
  const featureStats = features.map((f, i) => {
    const table = ordered.filter((c) => c.feature === i).map((c) => [c.target, c.rest]);
    const test = hideAll ? null : chiSquareTest(table);
    return {
      feature: f.name,
      cramersV: test ? cramersV(table, test) : null,
      chiSquare: test?.statistic ?? null,
      degreesOfFreedom: test?.dof ?? null,
      pValue: test?.pValue ?? null,
    };
  });
  const featureQ = benjaminiHochberg(featureStats.map((f) => f.pValue));
  const rankedFeatures = featureStats
    .map((f, i) => ({ ...f, qValue: featureQ[i] ?? null, index: i }))
    .sort((a, b) => (b.cramersV ?? -1) - (a.cramersV ?? -1) || (a.pValue ?? 2) - (b.pValue ?? 2) || a.feature.localeCompare(b.feature));
  const rank = new Map(rankedFeatures.map((f, r) => [f.index, r]));
  const values = ordered.map((c, i): ComparisonValue & { rank: number } => {
    const base = { feature: features[c.feature]?.name ?? '', value: c.value, rank: rank.get(c.feature) ?? 0 };
    if (hidden.has(c)) return { ...base, ...SUPPRESSED };
    const targetShare = totals.target > 0 ? c.target / totals.target : null;
    const referenceShare = totals.reference > 0 ? c.reference / totals.reference : null;
    const restShare = totals.rest > 0 ? c.rest / totals.rest : null;
    return {
      ...base,
      targetCustomers: c.target,
      targetShare,
      referenceCustomers: c.reference,
      referenceShare,
      tgi: targetShare !== null && referenceShare ? (100 * targetShare) / referenceShare : null,
      lift: targetShare !== null && restShare ? targetShare / restShare : null,
      pValue: pValues[i] ?? null,
      qValue: qValues[i] ?? null,
      suppressed: false,
    };
  });
  values.sort(
    (a, b) => a.rank - b.rank || Number(a.suppressed) - Number(b.suppressed) || (b.tgi ?? -1) - (a.tgi ?? -1) || String(a.value).localeCompare(String(b.value)),
  );
  return {
    targetCustomers: hideAll ? null : totals.target,
    restCustomers: hideAll ? null : totals.rest,
    features: rankedFeatures.map(({ index: _index, ...f }) => f),
    values: values.map(({ rank: _rank, ...v }) => v),
  };
}

const SUPPRESSED = {
  targetCustomers: null,
  targetShare: null,
  referenceCustomers: null,
  referenceShare: null,
  tgi: null,
  lift: null,
  pValue: null,
  qValue: null,
  suppressed: true,
} as const;
