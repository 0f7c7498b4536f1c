import { sql, type RawBuilder } from 'kysely';

/** `WHERE a AND b`, or nothing. */
export function whereClause(conditions: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  return conditions.length === 0 ? sql`` : sql`WHERE ${sql.join(conditions, sql` AND `)}`;
}

/** `GROUP BY 1, 2`, or nothing: ordinals keep parameterized expressions matched. */
export function groupByOrdinals(count: number, first = 1): RawBuilder<unknown> {
  if (count === 0) return sql``;
  return sql`GROUP BY ${sql.join(Array.from({ length: count }, (_, i) => sql.raw(String(first + i))))}`;
}

/** `expr AS "g0", ...` for a node's group-by columns. */
export function groupColumns(groups: readonly RawBuilder<unknown>[]): RawBuilder<unknown>[] {
  return groups.map((g, i) => sql`${g} AS ${sql.id(`g${i}`)}`);
}
