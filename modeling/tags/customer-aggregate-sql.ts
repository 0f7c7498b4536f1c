import { sql, type RawBuilder } from 'kysely';
import type { AggregateRef } from '../conditions/rule.ts';
import { Relation } from '../sql/relation.ts';
import { filterSql } from '../sql/filter-sql.ts';
import { aggregationSql } from '../sql/aggregation-sql.ts';
import { boundFor, type TimeColumn } from '../sql/time.ts';
import { measureOwner, type TagSubject } from './tag-subject.ts';

/** `YYYY-MM-DD` moved by whole days. */
export function addDays(dateText: string, days: number): string {
  const date = new Date(`${dateText}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/**
 * Per subject (customer) key, a measure aggregated over the local days
 * `[asOf - days + 1, asOf]`: `SELECT k, v ... GROUP BY k`. A semi-additive measure keeps
 * each customer's rows at the last (or first) time in the window. With `by`, the rows are
 * also grouped by that dimension (for "top value" tags).
 */
export function customerAggregateSql(subject: TagSubject, ref: AggregateRef, asOf: string, prefix: string, by?: string): RawBuilder<unknown> {
  const { model, measure, subjectKey } = measureOwner(subject, ref.measure, 'aggregate.measure');
  const relation = new Relation(subject.index, model, prefix);
  const timeName = measure.timeDimension ?? model.defaultTimeDimension;
  const timeDimension = model.dimensions.find((d) => d.name === timeName);
  if (!timeDimension) throw new Error(`catalog invariant: '${model.name}' has no time dimension '${timeName}'`);
  relation.boundVersionsBy(timeDimension);
  const time: TimeColumn = { expr: relation.baseColumn(timeDimension.sql), storage: timeDimension.storage ?? 'timestamptz', timeZone: model.timeZone };
  const key = relation.baseColumn(subjectKey);
  const conditions = [
    sql`${time.expr} >= ${boundFor(time, addDays(asOf, 1 - ref.window.days))}`,
    sql`${time.expr} < ${boundFor(time, addDays(asOf, 1))}`,
    sql`${key} IS NOT NULL`,
  ];
  if (measure.filter) {
    conditions.push(
      filterSql(measure.filter, {
        column: (dimensionRef) => {
          const dot = dimensionRef.indexOf('.');
          const found = relation.dimension(dimensionRef.slice(0, dot), dimensionRef.slice(dot + 1));
          return { expr: found.expr, type: found.dimension.type };
        },
      }),
    );
  }
  const byExpr = by ? relation.dimension(by.slice(0, by.indexOf('.')), by.slice(by.indexOf('.') + 1)).expr : undefined;
  const value = measure.sql === '*' ? null : relation.baseColumn(measure.sql);
  const groupCount = by ? 2 : 1;
  const groups = sql.raw(groupCount === 2 ? '1, 2' : '1');
  const keyColumns = [sql`${key} AS k`, ...(byExpr ? [sql`${byExpr} AS by_value`] : [])];
  if (!measure.nonAdditive) {
    return sql`SELECT ${sql.join([...keyColumns, sql`${aggregationSql(measure, value)} AS v`])} FROM ${relation.from()} WHERE ${sql.join(conditions, sql` AND `)} GROUP BY ${groups}`;
  }
  const at = relation.baseColumn(model.dimensions.find((d) => d.name === measure.nonAdditive?.dimension)?.sql ?? '');
  const chosen = measure.nonAdditive.window === 'max' ? sql`MAX(${at})` : sql`MIN(${at})`;
  const inner = sql`SELECT ${sql.join([...keyColumns, sql`${value ?? sql`1`} AS value`, sql`${at} AS at`, sql`${chosen} OVER (PARTITION BY ${key}) AS chosen`])}
    FROM ${relation.from()} WHERE ${sql.join(conditions, sql` AND `)}`;
  const outerKeys = [sql`s.k`, ...(byExpr ? [sql`s.by_value`] : [])];
  return sql`SELECT ${sql.join([...outerKeys, sql`${aggregationSql(measure, value ? sql.ref('s.value') : null)} AS v`])} FROM (${inner}) AS s WHERE s.at = s.chosen GROUP BY ${groups}`;
}

/** Counting aggregates are 0, not null, for a customer without rows. */
export function isCounting(subject: TagSubject, ref: AggregateRef): boolean {
  const { measure } = measureOwner(subject, ref.measure, 'aggregate.measure');
  return measure.aggregation === 'count' || measure.aggregation === 'count_distinct' || measure.aggregation === 'sum_boolean';
}
