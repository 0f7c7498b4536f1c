/** A scored held-out customer: the model's score and whether they are in the seed. */
export interface Scored {
  readonly score: number;
  readonly positive: boolean;
}

export interface RankingQuality {
  /** Area under the ROC curve: the chance a positive outranks a negative (ties count half). */
  readonly auc: number | null;
  /** Share of positives among the k best-scored, k being the number of positives. */
  readonly precisionAtK: number | null;
  /** Share of positives in the best-scored tenth over the share among all. */
  readonly liftTopDecile: number | null;
}

/**
 * How well scores rank positives first, on held-out customers. Ties in precision and lift
 * are broken against the positives (a pessimistic order), so equal scores never flatter.
 *
 * ```ts
 * rankingQuality([{ score: 2, positive: true }, { score: 1, positive: false }]).auc; // 1
 * ```
 */
export function rankingQuality(scored: readonly Scored[]): RankingQuality {
  const positives = scored.filter((s) => s.positive).length;
  const negatives = scored.length - positives;
  if (positives === 0 || negatives === 0) return { auc: null, precisionAtK: null, liftTopDecile: null };
  // Mann-Whitney U with midranks.
  const ascending = [...scored].sort((a, b) => a.score - b.score);
  let rankSum = 0;
  for (let i = 0; i < ascending.length; ) {
    let j = i;
    while (j + 1 < ascending.length && ascending[j + 1]?.score === ascending[i]?.score) j++;
    const midrank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (ascending[t]?.positive) rankSum += midrank;
    i = j + 1;
  }
  const auc = (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
  const descending = [...scored].sort((a, b) => b.score - a.score || Number(a.positive) - Number(b.positive));
  const share = (n: number) => descending.slice(0, n).filter((s) => s.positive).length / n;
  const decile = Math.max(1, Math.floor(scored.length / 10));
  return { auc, precisionAtK: share(positives), liftTopDecile: share(decile) / (positives / scored.length) };
}
