import { sql, type Kysely } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { z } from 'zod';
import { StrataError } from '../modeling/errors.ts';
import { isStorableText } from '../modeling/storable-text.ts';
import type { DatabaseSchema } from '../store/schema.ts';
import { isPseudonym, openPersonalValue } from '../store/personal-data-cipher.ts';
import type { EncryptionKeyring } from '../store/personal-data-keys.ts';

/** Most events one read returns. */
export const MAX_CUSTOMER_EVENTS = 1000;
const DEFAULT_CUSTOMER_EVENTS = 100;

export interface CustomerEventsQuery {
  readonly customerId: string;
  /** Half-open range `[from, to)` on `occurredAt`: ISO-8601 date-times with offset, or Dates. */
  readonly from: string | Date;
  readonly to: string | Date;
  /** How many events, newest first: 1 to 1,000 (default 100). */
  readonly first?: number;
  /**
   * Decrypt personal properties from their encrypted copies. The caller decides whether the
   * principal may (the personal scope); without `encryptionKeys` nothing can be revealed.
   */
  readonly revealPersonal: boolean;
  readonly encryptionKeys?: EncryptionKeyring | undefined;
}

/** One stored event of the customer. */
export interface CustomerEvent {
  readonly eventId: string;
  readonly name: string;
  /** UTC, `2026-06-01T00:00:00.000Z`. */
  readonly occurredAt: string;
  readonly channel: string;
  readonly anonymousId: string | null;
  readonly page: string | null;
  readonly placementId: string | null;
  readonly productId: string | null;
  /** As stored: personal properties hold their pseudonym (`hmac:v1:...`) unless revealed. */
  readonly properties: Readonly<Record<string, unknown>>;
  /** The personal properties shown decrypted, in clear. */
  readonly revealed: readonly string[];
}

export interface CustomerEventsPage {
  readonly events: readonly CustomerEvent[];
  /** More events of the range are older than the last one returned. */
  readonly hasMore: boolean;
}

interface CopyRow {
  property: string;
  ciphertext: string;
  iv: string;
  tag: string;
  key_version: number;
}

/**
 * A customer's behaviour events in a time range, newest first, in one query (the encrypted
 * copies are aggregated per event only when revealing). Personal properties show their
 * pseudonym, which still groups and joins; with `revealPersonal` and a key for the copy's
 * version they show the original value. A copy sealed by a key no longer configured stays a
 * pseudonym (retired keys shred their copies); a copy that fails authentication throws
 * `PersonalDataIntegrityError` rather than returning anything.
 *
 * ```ts
 * const { events } = await readCustomerEvents(db, {
 *   customerId: 'c000001', from: '2026-05-01T00:00:00+08:00', to: '2026-06-01T00:00:00+08:00',
 *   first: 50, revealPersonal: principalHasPersonalScope, encryptionKeys: config.piiEncryptionKeys,
 * });
 * ```
 */
export async function readCustomerEvents(db: Kysely<DatabaseSchema>, query: CustomerEventsQuery): Promise<CustomerEventsPage> {
  const { customerId, from, to, first } = checkQuery(query);
  const reveal = query.revealPersonal && query.encryptionKeys !== undefined;
  const rows = await db
    .selectFrom('wealth.app_events as e')
    .select(['e.event_id', 'e.event_name', 'e.occurred_at', 'e.channel', 'e.anonymous_id', 'e.page', 'e.placement_id', 'e.product_id', 'e.properties'])
    .$if(reveal, (q) =>
      q.select((eb) =>
        jsonArrayFrom(
          eb
            .selectFrom('strata.event_pii as p')
            .select([
              'p.property',
              sql<string>`encode(p.ciphertext, 'base64')`.as('ciphertext'),
              sql<string>`encode(p.iv, 'base64')`.as('iv'),
              sql<string>`encode(p.tag, 'base64')`.as('tag'),
              'p.key_version',
            ])
            .whereRef('p.event_id', '=', 'e.event_id'),
        ).as('copies'),
      ),
    )
    .where('e.customer_id', '=', customerId)
    .where('e.occurred_at', '>=', from)
    .where('e.occurred_at', '<', to)
    .orderBy('e.occurred_at', 'desc')
    .orderBy('e.event_id', 'desc')
    .limit(first + 1)
    .execute();
  const events = rows.slice(0, first).map((row) => {
    const properties = { ...(row.properties as Record<string, unknown>) };
    const revealed = reveal ? revealCopies(row.event_id, properties, (row.copies ?? []) as CopyRow[], query.encryptionKeys!) : [];
    return {
      eventId: row.event_id,
      name: row.event_name,
      occurredAt: new Date(row.occurred_at).toISOString(),
      channel: row.channel,
      anonymousId: row.anonymous_id,
      page: row.page,
      placementId: row.placement_id,
      productId: row.product_id,
      properties,
      revealed,
    };
  });
  return { events, hasMore: rows.length > first };
}

/** Replaces pseudonyms by the decrypted copies it has a key for; returns the properties revealed. */
function revealCopies(eventId: string, properties: Record<string, unknown>, copies: readonly CopyRow[], keys: EncryptionKeyring): string[] {
  const revealed: string[] = [];
  for (const copy of copies) {
    const key = keys.byVersion.get(copy.key_version);
    if (!key || !isPseudonym(properties[copy.property])) continue;
    const sealed = {
      ciphertext: Buffer.from(copy.ciphertext, 'base64'),
      iv: Buffer.from(copy.iv, 'base64'),
      tag: Buffer.from(copy.tag, 'base64'),
      keyVersion: copy.key_version,
    };
    properties[copy.property] = openPersonalValue(key, sealed, { eventId, property: copy.property });
    revealed.push(copy.property);
  }
  return revealed.sort();
}

const instant = z.union([z.date(), z.iso.datetime({ offset: true })]);
const QuerySchema = z.object({
  customerId: z.string().min(1).max(128).refine(isStorableText),
  from: instant,
  to: instant,
  first: z.number().int().min(1).max(MAX_CUSTOMER_EVENTS).default(DEFAULT_CUSTOMER_EVENTS),
});

function checkQuery(query: CustomerEventsQuery): { customerId: string; from: Date; to: Date; first: number } {
  const parsed = QuerySchema.safeParse({ customerId: query.customerId, from: query.from, to: query.to, first: query.first });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? 'query');
    const hint =
      field === 'first'
        ? `must be an integer from 1 to ${MAX_CUSTOMER_EVENTS}`
        : field === 'customerId'
          ? 'must be 1-128 storable characters'
          : 'must be an ISO-8601 date-time with offset';
    throw new StrataError('BAD_USER_INPUT', `${field} ${hint}`, { field });
  }
  const from = new Date(parsed.data.from);
  const to = new Date(parsed.data.to);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new StrataError('BAD_USER_INPUT', 'from and to must be valid instants');
  if (from >= to) throw new StrataError('BAD_USER_INPUT', 'from must be before to (the range is half-open: [from, to))');
  return { customerId: parsed.data.customerId, from, to, first: parsed.data.first };
}
