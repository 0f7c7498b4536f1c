import { sql, type RawBuilder } from 'kysely';
import { leaves } from '../conditions/rule.ts';
import { fromLocalTime, localTime, type TimeColumn } from '../sql/time.ts';
import { tagRules, type TagDefinition } from './tag-definition.ts';
import { measureOwner, type TagSubject } from './tag-subject.ts';
import type { AudienceRule } from './profile-sql.ts';

/** The dates a materialization may be computed as of (`YYYY-MM-DD`; null when no source has rows). */
export interface DataDateRange {
  /** The earliest local date with data in any source. */
  readonly earliest: string | null;
  /** The last local date up to which every source has data: the default as-of date. */
  readonly latest: string | null;
}

/**
 * The range of as-of dates the data supports, over the sources (models) whose measures the
 * tags and audience rules aggregate (`SELECT ... AS earliest, ... AS latest`, one row).
 *
 * Each source contributes its first and last local date in its model's time zone, counting
 * only rows dated up to `now`'s local date (a row stamped in the future does not move a
 * source's date beyond today). `latest` is the minimum of the sources' last dates, so one
 * source that runs ahead of the others (one event stamped "now" while holdings stop days
 * earlier) does not move it; `earliest` is the minimum of their first dates. A source
 * without rows is left out. Each source is read with MIN/MAX over its time column, which an
 * index on the column answers with two probes.
 *
 * ```ts
 * const { rows: [range] } = await dataDateRangeSql(subject, tags, audiences, new Date()).execute(db);
 * ```
 */
export function dataDateRangeSql(
  subject: TagSubject,
  tags: readonly TagDefinition[],
  audiences: readonly AudienceRule[],
  now: Date,
): RawBuilder<DataDateRange> {
  const parts = [...sourceColumns(subject, tags, audiences).values()].map(({ column, source }) => {
    // The start of tomorrow in the model's time zone, as a value of the column's storage.
    const localNow = sql`(CAST(${now.toISOString()} AS timestamptz) AT TIME ZONE ${sql.lit(column.timeZone)})`;
    const tomorrow = fromLocalTime(column, sql`CAST(CAST(${localNow} AS date) + 1 AS timestamp)`);
    // MIN and MAX before the time-zone conversion (which keeps order), so an index on the column serves them.
    const first = localTime({ ...column, expr: sql`MIN(${column.expr})` });
    const last = localTime({ ...column, expr: sql`MAX(${column.expr})` });
    return sql`SELECT CAST(${first} AS date) AS earliest, CAST(${last} AS date) AS latest FROM ${source} WHERE ${column.expr} < ${tomorrow}`;
  });
  if (parts.length === 0) return sql<DataDateRange>`SELECT CAST(NULL AS text) AS earliest, CAST(NULL AS text) AS latest`;
  return sql<DataDateRange>`SELECT CAST(MIN(earliest) AS text) AS earliest, CAST(MIN(latest) AS text) AS latest
    FROM (${sql.join(parts, sql` UNION ALL `)}) AS dates`;
}

/** The time column of every source the tags and audiences aggregate, one per model and column. */
function sourceColumns(subject: TagSubject, tags: readonly TagDefinition[], audiences: readonly AudienceRule[]) {
  const measures = new Set<string>();
  for (const tag of tags) {
    if (tag.source.kind === 'aggregate' || tag.source.kind === 'top') measures.add(tag.source.aggregate.measure);
  }
  const rules = [...tags.flatMap((t) => tagRules(t.source)), ...audiences.map((a) => a.rule)];
  for (const leaf of rules.flatMap(leaves)) if (leaf.kind === 'aggregate') measures.add(leaf.aggregate.measure);
  const sources = new Map<string, { column: TimeColumn; source: RawBuilder<unknown> }>();
  for (const ref of measures) {
    const { model, measure } = measureOwner(subject, ref, 'aggregate.measure');
    const dimension = model.dimensions.find((d) => d.name === (measure.timeDimension ?? model.defaultTimeDimension));
    if (!dimension) throw new Error(`catalog invariant: no time dimension for '${ref}'`);
    const column: TimeColumn = { expr: sql.raw(dimension.sql), storage: dimension.storage ?? 'timestamptz', timeZone: model.timeZone };
    const source = 'table' in model.source ? sql.table(model.source.table) : sql`(${sql.raw(model.source.sql)}) AS source`;
    sources.set(`${model.name}\u0000${dimension.sql}`, { column, source });
  }
  return sources;
}
