import { sql, type RawBuilder } from 'kysely';
import { leaves } from '../conditions/rule.ts';
import { localTime } from '../sql/time.ts';
import { tagRules, type TagDefinition } from './tag-definition.ts';
import { measureOwner, type TagSubject } from './tag-subject.ts';
import type { AudienceRule } from './profile-sql.ts';

/**
 * The latest local date with data among the models the tags aggregate: the default
 * as-of date of a materialization (`SELECT ... AS latest`, one row, null when empty).
 */
export function latestDataDateSql(subject: TagSubject, tags: readonly TagDefinition[], audiences: readonly AudienceRule[]): RawBuilder<{ latest: string | null }> {
  const measures = new Set<string>();
  for (const tag of tags) {
    if (tag.source.kind === 'aggregate' || tag.source.kind === 'top') measures.add(tag.source.aggregate.measure);
  }
  const rules = [...tags.flatMap((t) => tagRules(t.source)), ...audiences.map((a) => a.rule)];
  for (const leaf of rules.flatMap(leaves)) if (leaf.kind === 'aggregate') measures.add(leaf.aggregate.measure);
  const parts = [...measures].map((ref) => {
    const { model, measure } = measureOwner(subject, ref, 'aggregate.measure');
    const dimension = model.dimensions.find((d) => d.name === (measure.timeDimension ?? model.defaultTimeDimension));
    if (!dimension) throw new Error(`catalog invariant: no time dimension for '${ref}'`);
    // MAX before the time-zone conversion (which keeps order), so an index on the column serves it.
    const local = localTime({ expr: sql`MAX(${sql.raw(dimension.sql)})`, storage: dimension.storage ?? 'timestamptz', timeZone: model.timeZone });
    const source = 'table' in model.source ? sql.table(model.source.table) : sql`(${sql.raw(model.source.sql)}) AS source`;
    return sql`SELECT CAST(${local} AS date) AS latest FROM ${source}`;
  });
  if (parts.length === 0) return sql<{ latest: string | null }>`SELECT CAST(NULL AS date) AS latest`;
  return sql<{ latest: string | null }>`SELECT CAST(MAX(latest) AS text) AS latest FROM (${sql.join(parts, sql` UNION ALL `)}) AS dates`;
}
