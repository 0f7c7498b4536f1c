import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../store/schema.ts';
import { dataDateRangeSql, type DataDateRange } from '../modeling/tags/data-date-range-sql.ts';
import type { AudienceRule } from '../modeling/tags/profile-sql.ts';
import type { TagDefinition } from '../modeling/tags/tag-definition.ts';
import type { TagSubject } from '../modeling/tags/tag-subject.ts';
import { isCalendarDate } from '../modeling/catalog/calendar-date.ts';
import { StrataError } from '../modeling/errors.ts';

export interface AsOfChoice {
  readonly asOf: string;
  readonly range: DataDateRange;
}

/** Today's UTC date: the as-of date when no tag aggregates any dated data. */
export function today(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/**
 * The as-of date of a materialization: the requested one when it is a calendar date inside
 * the data range (BAD_USER_INPUT naming the range otherwise), or by default the last date
 * for which every source the tags and audiences read has data.
 */
export async function chooseAsOf(
  db: Kysely<DatabaseSchema>,
  input: { subject: TagSubject; tags: readonly TagDefinition[]; audiences: readonly AudienceRule[]; requested: string | undefined; now: Date },
): Promise<AsOfChoice> {
  const { requested } = input;
  if (requested !== undefined && !isCalendarDate(requested)) {
    throw new StrataError('BAD_USER_INPUT', `asOf: '${requested.slice(0, 40)}' is not a calendar date (YYYY-MM-DD)`, { path: 'asOf' });
  }
  const { rows } = await dataDateRangeSql(input.subject, input.tags, input.audiences, input.now).execute(db);
  const range = rows[0] ?? { earliest: null, latest: null };
  if (requested === undefined) return { asOf: range.latest ?? today(input.now), range };
  const { earliest, latest } = range;
  if (earliest === null || latest === null) {
    // No source has rows: nothing bounds the past, but a future date has no data by definition.
    if (requested > today(input.now))
      throw new StrataError('BAD_USER_INPUT', `asOf: ${requested} is in the future and the tags' sources hold no data`, { path: 'asOf' });
    return { asOf: requested, range };
  }
  if (requested < earliest || requested > latest) {
    throw new StrataError(
      'BAD_USER_INPUT',
      `asOf: ${requested} is outside the data range ${earliest} to ${latest} (from the earliest date with data to the last date every source the tags read has data)`,
      { path: 'asOf', earliest, latest },
    );
  }
  return { asOf: requested, range };
}
