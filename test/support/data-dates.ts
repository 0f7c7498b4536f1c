import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../store/schema.ts';

/**
 * The default as-of date of a materialization of the wealth tags, written independently of
 * the platform: the earliest of the last Shanghai dates with data of the sources the tags
 * read (holdings, transactions, app events, registrations), counting no date after today.
 * Small demos may have no transaction on the last days, so it can be before DEMO_ACTIVITY_LAST_DAY.
 */
export async function lastCommonDataDate(db: Kysely<DatabaseSchema>): Promise<string> {
  const local = (column: string) => sql.raw(`(${column} AT TIME ZONE 'Asia/Shanghai')::date`);
  const today = sql`(now() AT TIME ZONE 'Asia/Shanghai')::date`;
  const { rows } = await sql<{ latest: string }>`
    SELECT LEAST(
      (SELECT MAX(as_of) FROM wealth.holdings_daily WHERE as_of <= ${today}),
      (SELECT MAX(${local('occurred_at')}) FROM wealth.transactions WHERE ${local('occurred_at')} <= ${today}),
      (SELECT MAX(${local('occurred_at')}) FROM wealth.app_events WHERE ${local('occurred_at')} <= ${today}),
      (SELECT MAX(${local('registered_at')}) FROM wealth.customers WHERE ${local('registered_at')} <= ${today})
    )::text AS latest`.execute(db);
  const latest = rows[0]?.latest;
  if (!latest) throw new Error('the warehouse holds no dated data');
  return latest;
}
