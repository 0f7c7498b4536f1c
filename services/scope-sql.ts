import { sql, type RawBuilder } from 'kysely';
import { ruleSql, type RuleColumns } from '../modeling/conditions/rule-sql.ts';
import type { Rule } from '../modeling/conditions/rule.ts';
import { tagValueType, type TagDefinition } from '../modeling/tags/tag-definition.ts';
import { subjectDimension, subjectOperand, type TagSubject } from '../modeling/tags/tag-subject.ts';
import { StrataError } from '../modeling/errors.ts';
import type { TagRuntime } from './tag-runtime.ts';

const CASTS = { boolean: 'boolean', number: 'numeric', string: 'text', time: 'timestamptz' } as const;

/**
 * The keys of the subjects inside a caller's row-level scope, as a subquery
 * (`customer_id IN (...)`): the scope compares the subject's own columns and its tags in
 * the current profile snapshot. Without a scope, undefined (every subject).
 */
export function scopedKeysSql(subject: TagSubject, tags: ReadonlyMap<string, TagDefinition>, scope: Rule | undefined): RawBuilder<unknown> | undefined {
  if (!scope) return undefined;
  const key = sql.raw(subject.key);
  const columns: RuleColumns = {
    dimension: (ref) => subjectOperand(subject, ref, 'scope', sql`(${sql.raw(subjectDimension(subject, ref, 'scope').sql)})`),
    tag: (tagKey) => {
      const tag = tags.get(tagKey);
      if (!tag) throw new StrataError('FORBIDDEN', `your access scope reads tag '${tagKey}', which is no longer published; ask an admin for a new key`);
      const type = tagValueType(tag);
      const value = sql`(SELECT sp.tags ->> ${tagKey} FROM strata.current_profiles sp WHERE sp.customer_id = s.${key})`;
      return { expr: sql`CAST(${value} AS ${sql.raw(CASTS[type])})`, type };
    },
    aggregate: () => {
      throw new StrataError('FORBIDDEN', 'an access scope cannot aggregate; ask an admin for a new key');
    },
  };
  const source = 'table' in subject.model.source ? sql.table(subject.model.source.table) : sql`(${sql.raw(subject.model.source.sql)})`;
  return sql`SELECT s.${key} FROM ${source} AS s WHERE ${ruleSql(scope, columns)}`;
}

/** `AND <column> IN (<scoped keys>)`, or nothing without a scope. */
export function andInScope(column: RawBuilder<unknown>, scoped: RawBuilder<unknown> | undefined): RawBuilder<unknown> {
  return scoped ? sql`AND ${column} IN (${scoped})` : sql``;
}

/** Whether one customer is inside a scope (always, without one). */
export async function customerInScope(runtime: TagRuntime, scope: Rule | undefined, customerId: string): Promise<boolean> {
  const scoped = scopedKeysSql(runtime.subject, (await runtime.registry()).live, scope);
  if (!scoped) return true;
  const { rows } = await sql<{ inside: boolean }>`SELECT ${customerId} IN (${scoped}) AS inside`.execute(runtime.db);
  return rows[0]?.inside === true;
}
