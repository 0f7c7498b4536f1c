import { sql } from 'kysely';
import { defineTag, type TagSpec } from '../modeling/tags/define-tag.ts';
import { checkTag, orderTags } from '../modeling/tags/check-tag.ts';
import { profileSql } from '../modeling/tags/profile-sql.ts';
import { dataDateRangeSql } from '../modeling/tags/data-date-range-sql.ts';
import { tagMembers } from '../modeling/tags/rule-members.ts';
import { sqlCompiler } from '../modeling/sql/sql-compiler.ts';
import { cellsToSuppress } from '../modeling/privacy/cell-suppression.ts';
import { currentSnapshot } from './snapshot.ts';
import { today } from './materialization-as-of.ts';
import { tagClosure, type TagRuntime } from './tag-runtime.ts';
import { checkMembersCleared, type Viewer } from './access.ts';
import { andInScope, scopedKeysSql } from './scope-sql.ts';

export interface PreviewValue {
  readonly value: string | null;
  /** Null when suppressed: fewer customers than the viewer's threshold, or hiding one that is. */
  readonly customers: number | null;
  readonly suppressed: boolean;
}

export interface TagPreview {
  readonly asOf: string;
  /** Customers with a value (matching, for a boolean rule); null when it would reveal a suppressed value. */
  readonly customers: number | null;
  /** Share of all customers (in the viewer's scope) with a value; null with `customers`. */
  readonly coverage: number | null;
  readonly values: readonly PreviewValue[];
  readonly sql: string;
}

const PREVIEW_KEY = 'preview_tag';

/**
 * What a tag would look like before it is saved: customers with a value (matching, for a
 * boolean rule), coverage and value distribution, computed in the database as of the
 * current snapshot's date (or the latest date with data), over the customers in the
 * viewer's scope. A rule reading a member above the viewer's clearance is refused; for
 * viewers without personal clearance, small values are suppressed (with the cells that
 * would reveal them).
 */
export async function previewTag(runtime: TagRuntime, spec: Omit<TagSpec, 'key'>, viewer: Viewer, asOfOverride?: string): Promise<TagPreview> {
  const registry = await runtime.registry();
  const tag = defineTag({ ...spec, key: PREVIEW_KEY, status: 'DRAFT' }, 'api');
  checkTag(tag, runtime.subject, registry.live, { forPublish: false });
  checkMembersCleared(viewer.principal, tagMembers(tag, runtime.subject, registry.live), 'preview');
  const ordered = orderTags([...tagClosure(registry.live, [], [tag]), tag]);
  const inScope = andInScope(sql.ref('p.k'), scopedKeysSql(runtime.subject, registry.live, viewer.principal.scope));
  const { asOf, statement, rows } = await runtime.analytics.read(async (db) => {
    const asOf =
      asOfOverride ??
      (await currentSnapshot(db))?.asOf ??
      (await dataDateRangeSql(runtime.subject, [...registry.live.values(), tag], [], new Date()).execute(db)).rows[0]?.latest ??
      today();
    const statement = sql<{ value: string | null; customers: number }>`
      SELECT p.tags ->> ${PREVIEW_KEY} AS value, COUNT(*) AS customers FROM (${profileSql(runtime.subject, ordered, [], asOf)}) AS p
      WHERE TRUE ${inScope} GROUP BY 1 ORDER BY 2 DESC, 1`;
    return { asOf, statement, rows: (await statement.execute(db)).rows };
  });
  const counts = rows.map((r) => ({ value: r.value, customers: Number(r.customers) }));
  const total = counts.reduce((sum, r) => sum + r.customers, 0);
  const isCovered = (value: string | null) => (tag.kind === 'BOOLEAN' ? value === 'true' : value !== null);
  const covered = counts.filter((v) => isCovered(v.value)).reduce((s, v) => s + v.customers, 0);
  const hidden =
    viewer.minSubjects === undefined
      ? counts.map(() => false)
      : cellsToSuppress(
          counts.map((c) => [c.customers]),
          viewer.minSubjects,
        );
  const values = counts.map((c, i) => ({ value: c.value, customers: hidden[i] ? null : c.customers, suppressed: hidden[i] === true }));
  // The covered total minus its shown values must not single out one hidden value.
  const hiddenCovered = counts.filter((c, i) => hidden[i] && isCovered(c.value)).length;
  const showTotals = hiddenCovered !== 1 && (viewer.minSubjects === undefined || covered >= viewer.minSubjects);
  return {
    asOf,
    customers: showTotals ? covered : null,
    coverage: showTotals ? (total === 0 ? 0 : covered / total) : null,
    values,
    sql: statement.compile(sqlCompiler).sql,
  };
}
