import { sql } from 'kysely';
import { StrataError } from '../modeling/errors.ts';
import { closestNames } from '../modeling/query/suggest.ts';
import { cellsToSuppress } from '../modeling/privacy/cell-suppression.ts';
import { tagSensitivity } from '../modeling/tags/rule-members.ts';
import { getAudience } from './audiences.ts';
import type { TagRuntime } from './tag-runtime.ts';
import { checkMembersCleared, type Viewer } from './access.ts';
import { andInScope, scopedKeysSql } from './scope-sql.ts';
import { quoteInput } from '../modeling/quote-input.ts';

export interface InsightRow {
  readonly tag: string;
  /** The tag's value; null for customers without one. */
  readonly value: string | null;
  readonly audienceCustomers: number;
  readonly audienceShare: number;
  readonly referenceShare: number;
  /** 100 x audience share / reference share: over 100 means over-represented. */
  readonly tgi: number | null;
}

interface Cell {
  readonly tag: string;
  readonly value: string | null;
  readonly a: number;
  readonly r: number;
}

/**
 * Per tag value: the share of the audience and of the reference (all customers, or another
 * audience) with that value, and the TGI, ranked from most over-represented; computed over
 * the current profile snapshot (within the viewer's scope) in one statement. For viewers
 * without personal clearance, cells counting 1 to k-1 customers on either side are left
 * out, with enough other cells of the same tag that the audience size minus the cells shown
 * never singles one out (secondary suppression).
 */
export async function audienceInsight(
  runtime: TagRuntime,
  audienceKey: string,
  reference: string | null,
  tagKeys: readonly string[],
  viewer: Viewer,
): Promise<InsightRow[]> {
  await getAudience(runtime, audienceKey);
  if (reference !== null) await getAudience(runtime, reference);
  const live = (await runtime.registry()).live;
  for (const key of tagKeys) {
    const tag = live.get(key);
    if (!tag) throw new StrataError('UNKNOWN_MEMBER', `unknown tag ${quoteInput(key)}`, { suggestions: closestNames(key, live.keys()) });
    checkMembersCleared(viewer.principal, [{ name: `tag ${key}`, sensitivity: tagSensitivity(tag, runtime.subject, live) }], 'comparison');
  }
  if (tagKeys.length === 0) throw new StrataError('BAD_USER_INPUT', 'name at least one tag in `tags`');
  const inReference = reference === null ? sql`TRUE` : sql`${reference} = ANY(p.audiences)`;
  const inScope = andInScope(sql.ref('p.customer_id'), scopedKeysSql(runtime.subject, live, viewer.principal.scope));
  const { rows } = await runtime.analytics.read((db) =>
    sql<{ tag: string; value: string | null; a: number; r: number; a_total: number; r_total: number }>`
    WITH profiles AS (
      SELECT p.tags, ${audienceKey} = ANY(p.audiences) AS in_audience, ${inReference} AS in_reference
      FROM strata.current_profiles p WHERE TRUE ${inScope}
    ), cells AS (
      SELECT t.key AS tag, profiles.tags ->> t.key AS value,
        COUNT(*) FILTER (WHERE in_audience) AS a, COUNT(*) FILTER (WHERE in_reference) AS r
      FROM profiles CROSS JOIN unnest(CAST(${[...new Set(tagKeys)]} AS text[])) AS t(key) GROUP BY 1, 2
    )
    SELECT cells.*, totals.a_total, totals.r_total FROM cells,
      (SELECT COUNT(*) FILTER (WHERE in_audience) AS a_total, COUNT(*) FILTER (WHERE in_reference) AS r_total FROM profiles) AS totals
    WHERE cells.a > 0 OR cells.r > 0`.execute(db),
  );
  const aTotal = Number(rows[0]?.a_total ?? 0);
  const rTotal = Number(rows[0]?.r_total ?? 0);
  const k = viewer.minSubjects;
  if (aTotal === 0 || (k !== undefined && (aTotal < k || rTotal < k))) return [];
  const cells: Cell[] = rows.map((row) => ({ tag: row.tag, value: row.value, a: Number(row.a), r: Number(row.r) }));
  const shown =
    k === undefined
      ? cells
      : tagKeys.flatMap((key) =>
          visibleCells(
            cells.filter((c) => c.tag === key),
            k,
          ),
        );
  return shown
    .filter((cell) => cell.a > 0)
    .map((cell) => {
      const audienceShare = cell.a / aTotal;
      const referenceShare = rTotal === 0 ? 0 : cell.r / rTotal;
      return {
        tag: cell.tag,
        value: cell.value,
        audienceCustomers: cell.a,
        audienceShare,
        referenceShare,
        tgi: referenceShare > 0 ? (100 * audienceShare) / referenceShare : null,
      };
    })
    .sort((x, y) => (y.tgi ?? -1) - (x.tgi ?? -1) || x.tag.localeCompare(y.tag) || String(x.value).localeCompare(String(y.value)));
}

/** The cells of one tag a restricted viewer may see: small ones and those that would reveal them are left out. */
function visibleCells(cells: readonly Cell[], k: number): Cell[] {
  const hidden = cellsToSuppress(
    cells.map((c) => [c.a, c.r]),
    k,
  );
  return cells.filter((_, i) => !hidden[i]);
}
