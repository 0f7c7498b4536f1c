import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './schema.ts';
import { logger } from './logger.ts';

/** One read of customers' personal data. */
export interface PersonalDataRead {
  readonly at: Date;
  readonly actor: string;
  readonly operation: string;
  readonly customerIds: readonly string[];
}

export interface PersonalDataLog {
  /** Records a read; cheap on the hot path (buffered, written in the background). */
  record(actor: string, operation: string, customerIds: readonly string[]): void;
  /** Writes what is buffered now. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

/**
 * An append-only log of personal-data reads, buffered in memory and written in one INSERT
 * per second (or per 500 reads), one row per actor and operation of the batch, so recording
 * costs a push on the request path. A failed
 * write is retried with the next batch; the buffer is bounded and says so in the log when it
 * must drop the oldest entries (the database being down for a long time).
 */
export function createPersonalDataLog(
  db: Kysely<DatabaseSchema>,
  options: { intervalMs?: number; maxBatch?: number; maxBuffered?: number } = {},
): PersonalDataLog {
  const maxBatch = options.maxBatch ?? 500;
  const maxBuffered = options.maxBuffered ?? 100_000;
  let buffer: PersonalDataRead[] = [];
  let writing: Promise<void> = Promise.resolve();
  /** Reads at the head of the buffer that the write in flight is inserting. */
  let inserting = 0;
  const write = async (): Promise<void> => {
    // What is buffered when the write starts: reads recorded meanwhile wait for the next
    // write (the timer's, or the batch size's), so that under load the writes stay whole
    // batches rather than a loop of inserts of the few reads each insert's wait let in.
    let due = buffer.length;
    while (due > 0) {
      const batch = buffer.slice(0, Math.min(maxBatch, due));
      inserting = batch.length;
      try {
        await db.insertInto('strata.personal_data_reads').values(mergedRows(batch)).execute();
        buffer = buffer.slice(batch.length);
        due -= batch.length;
      } catch (error) {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error), pending: buffer.length },
          'personal-data read log not written yet; retrying',
        );
        return;
      } finally {
        inserting = 0;
      }
    }
  };
  /** Whether a write is queued that has not started yet: it will take whatever is buffered when it starts. */
  let queued = false;
  const flush = () => {
    // Under load every record past `maxBatch` asks for a write while one is in flight; one
    // queued write takes them all, instead of a chain of writes of a few reads each.
    if (queued) return writing;
    queued = true;
    writing = writing.then(() => {
      queued = false;
      return write();
    });
    return writing;
  };
  const timer = setInterval(() => void flush(), options.intervalMs ?? 1000);
  timer.unref();
  return {
    record(actor, operation, customerIds) {
      if (customerIds.length === 0) return;
      buffer.push({ at: new Date(), actor, operation, customerIds });
      if (buffer.length > maxBuffered) {
        const dropped = buffer.length - maxBuffered;
        buffer = buffer.slice(dropped);
        logger.error({ dropped }, 'personal-data read log buffer full: oldest entries dropped');
      }
      if (buffer.length - inserting >= maxBatch) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/**
 * One row per actor and operation of a batch (the time of its first read, every customer id
 * it read), so a busy app key writes one row a second, not one per request.
 */
function mergedRows(batch: readonly PersonalDataRead[]) {
  const rows = new Map<string, { read_at: Date; actor: string; operation: string; customer_ids: string[] }>();
  for (const read of batch) {
    const key = `${read.actor}\u0000${read.operation}`;
    const row = rows.get(key);
    if (row) row.customer_ids.push(...read.customerIds);
    else rows.set(key, { read_at: read.at, actor: read.actor, operation: read.operation, customer_ids: [...read.customerIds] });
  }
  return [...rows.values()];
}

/** Reads of personal data, newest first, filtered by actor, customer and time. */
export async function listPersonalDataReads(
  db: Kysely<DatabaseSchema>,
  filter: { actor?: string; customerId?: string; from?: Date; to?: Date; first: number },
): Promise<PersonalDataRead[]> {
  let query = db.selectFrom('strata.personal_data_reads').select(['read_at', 'actor', 'operation', 'customer_ids']);
  if (filter.actor) query = query.where('actor', '=', filter.actor);
  if (filter.customerId) query = query.where((eb) => eb(eb.val(filter.customerId as string), '=', eb.fn.any('customer_ids')));
  if (filter.from) query = query.where('read_at', '>=', filter.from);
  if (filter.to) query = query.where('read_at', '<', filter.to);
  const rows = await query.orderBy('read_at', 'desc').orderBy('read_id', 'desc').limit(filter.first).execute();
  return rows.map((r) => ({ at: r.read_at, actor: r.actor, operation: r.operation, customerIds: r.customer_ids }));
}
