import { sql } from 'kysely';
import { StrataError } from '../modeling/errors.ts';
import { closestNames } from '../modeling/query/suggest.ts';
import { getAudience } from './audiences.ts';
import type { TagRuntime } from './tag-runtime.ts';
import { quoteInput } from '../modeling/quote-input.ts';

export interface InsightRow {
  readonly tag: string;
  readonly value: string | null;
  readonly audienceCustomers: number;
  readonly audienceShare: number;
  readonly referenceShare: number;
  /** 100 x audience share / reference share: over 100 means over-represented. */
  readonly tgi: number | null;
}

/** Cells with fewer customers than this are not shown, so no small group can be singled out. */
export const SMALL_CELL = 10;

/**
 * Per tag value: the share of the audience and of the reference (all customers, or another
 * audience) with that value, and the TGI, ranked from most over-represented; small cells
 * are suppressed. Computed over the current profile snapshot in one statement.
 */
export async function audienceInsight(runtime: TagRuntime, audienceKey: string, reference: string | null, tagKeys: readonly string[]): Promise<InsightRow[]> {
  await getAudience(runtime, audienceKey);
  if (reference !== null) await getAudience(runtime, reference);
  const live = (await runtime.registry()).live;
  for (const key of tagKeys) {
    if (!live.has(key)) throw new StrataError('UNKNOWN_MEMBER', `unknown tag ${quoteInput(key)}`, { suggestions: closestNames(key, live.keys()) });
  }
  if (tagKeys.length === 0) throw new StrataError('BAD_USER_INPUT', 'name at least one tag in `tags`');
  const inReference = reference === null ? sql`TRUE` : sql`${reference} = ANY(p.audiences)`;
  const { rows } = await sql<{ tag: string; value: string | null; a: number; r: number; a_total: number; r_total: number }>`
    WITH profiles AS (
      SELECT p.tags, ${audienceKey} = ANY(p.audiences) AS in_audience, ${inReference} AS in_reference
      FROM strata.customer_profiles p WHERE p.run_id = (SELECT run_id FROM strata.profile_snapshot WHERE id = 1)
    ), cells AS (
      SELECT t.key AS tag, t.value #>> '{}' AS value,
        COUNT(*) FILTER (WHERE in_audience) AS a, COUNT(*) FILTER (WHERE in_reference) AS r
      FROM profiles, jsonb_each(profiles.tags) AS t WHERE t.key IN (${sql.join(tagKeys.map((k) => sql`${k}`))}) GROUP BY 1, 2
    )
    SELECT cells.*, totals.a_total, totals.r_total FROM cells,
      (SELECT COUNT(*) FILTER (WHERE in_audience) AS a_total, COUNT(*) FILTER (WHERE in_reference) AS r_total FROM profiles) AS totals
    WHERE cells.a >= ${SMALL_CELL} AND cells.r >= ${SMALL_CELL}`.execute(runtime.db);
  return rows
    .map((row) => {
      const audienceShare = Number(row.a) / Number(row.a_total);
      const referenceShare = Number(row.r) / Number(row.r_total);
      return { tag: row.tag, value: row.value, audienceCustomers: Number(row.a), audienceShare, referenceShare, tgi: referenceShare > 0 ? (100 * audienceShare) / referenceShare : null };
    })
    .sort((x, y) => (y.tgi ?? -1) - (x.tgi ?? -1) || x.tag.localeCompare(y.tag) || String(x.value).localeCompare(String(y.value)));
}
