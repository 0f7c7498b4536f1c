import { sql } from 'kysely';
import { defineTag, type TagSpec } from '../modeling/tags/define-tag.ts';
import { checkTag, orderTags } from '../modeling/tags/check-tag.ts';
import { profileSql } from '../modeling/tags/profile-sql.ts';
import { dataDateRangeSql } from '../modeling/tags/data-date-range-sql.ts';
import { sqlCompiler } from '../modeling/plan/sql-compiler.ts';
import { currentSnapshot } from './snapshot.ts';
import { today } from './materialization-as-of.ts';
import { tagClosure, type TagRuntime } from './tag-runtime.ts';

export interface TagPreview {
  readonly asOf: string;
  readonly customers: number;
  /** Share of all customers with a value (true for a boolean tag). */
  readonly coverage: number;
  readonly values: readonly { readonly value: string | null; readonly customers: number }[];
  readonly sql: string;
}

const PREVIEW_KEY = 'preview_tag';

/**
 * What a tag would look like before it is saved: customers with a value (matching, for a
 * boolean rule), coverage and value distribution, computed in the database as of the
 * current snapshot's date (or the latest date with data).
 */
export async function previewTag(runtime: TagRuntime, spec: Omit<TagSpec, 'key'>, asOfOverride?: string): Promise<TagPreview> {
  const registry = await runtime.registry();
  const tag = defineTag({ ...spec, key: PREVIEW_KEY, status: 'DRAFT' }, 'api');
  checkTag(tag, runtime.subject, registry.live, { forPublish: false });
  const ordered = orderTags([...tagClosure(registry.live, [], [tag]), tag]);
  const asOf = asOfOverride ?? (await currentSnapshot(runtime.db))?.asOf
    ?? (await dataDateRangeSql(runtime.subject, [...registry.live.values(), tag], [], new Date()).execute(runtime.db)).rows[0]?.latest ?? today();
  const statement = sql<{ value: string | null; customers: number }>`
    SELECT p.tags ->> ${PREVIEW_KEY} AS value, COUNT(*) AS customers FROM (${profileSql(runtime.subject, ordered, [], asOf)}) AS p GROUP BY 1 ORDER BY 2 DESC, 1`;
  const { rows } = await statement.execute(runtime.db);
  const total = rows.reduce((sum, r) => sum + Number(r.customers), 0);
  const values = rows.map((r) => ({ value: r.value, customers: Number(r.customers) }));
  const covered = values.filter((v) => (tag.kind === 'BOOLEAN' ? v.value === 'true' : v.value !== null)).reduce((s, v) => s + v.customers, 0);
  return { asOf, customers: covered, coverage: total === 0 ? 0 : covered / total, values, sql: statement.compile(sqlCompiler).sql };
}
