import { sql, type RawBuilder } from 'kysely';
import type { CatalogIndex } from '../catalog/catalog-index.ts';
import { Relation } from './relation.ts';
import { fromLocalTime, localTime, type TimeColumn } from './time.ts';

/**
 * The last local day with events in the catalog's event stream, up to `now`'s local day
 * (an event stamped in the future does not move it): `SELECT ... AS latest`, one row, null
 * without events or without a stream. MAX over the time column, which its index answers.
 */
export function eventStreamLatestDaySql(index: CatalogIndex, now: Date): RawBuilder<{ latest: string | null }> {
  const stream = index.catalog.eventStream;
  if (!stream) return sql<{ latest: string | null }>`SELECT CAST(NULL AS text) AS latest`;
  const model = index.model(stream.model);
  const dimension = model.dimensions.find((d) => d.name === model.defaultTimeDimension);
  if (!dimension) return sql<{ latest: string | null }>`SELECT CAST(NULL AS text) AS latest`;
  const relation = new Relation(index, model, 'd');
  const column: TimeColumn = { expr: relation.baseColumn(dimension.sql), storage: dimension.storage ?? 'timestamptz', timeZone: model.timeZone };
  const localNow = sql`(CAST(${now.toISOString()} AS timestamptz) AT TIME ZONE ${sql.lit(model.timeZone)})`;
  const tomorrow = fromLocalTime(column, sql`CAST(CAST(${localNow} AS date) + 1 AS timestamp)`);
  const last = localTime({ ...column, expr: sql`MAX(${column.expr})` });
  return sql<{ latest: string | null }>`SELECT CAST(CAST(${last} AS date) AS text) AS latest FROM ${relation.from()} WHERE ${column.expr} < ${tomorrow}`;
}
