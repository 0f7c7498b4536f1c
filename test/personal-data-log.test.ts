import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { DatabaseSchema } from '../store/schema.ts';
import { createPersonalDataLog } from '../store/personal-data-log.ts';

/**
 * The personal-data read log writes whole batches under load: reads recorded while an insert
 * is in flight wait for the next write instead of each insert's wait letting in a few reads
 * that are then inserted on their own, and every read is written exactly once.
 */

/** A database whose inserts take `delayMs`, recording the customer ids of each insert. */
function slowDatabase(delayMs: number) {
  const inserts: string[][] = [];
  const db = {
    insertInto: () => ({
      values: (rows: { customer_ids: string[] }[]) => ({
        execute: async () => {
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          inserts.push(rows.flatMap((r) => r.customer_ids));
        },
      }),
    }),
  } as unknown as Kysely<DatabaseSchema>;
  return { db, inserts };
}

describe('personal-data read log', () => {
  it('writes reads arriving during an insert in batches, each read once', async () => {
    const { db, inserts } = slowDatabase(5);
    const log = createPersonalDataLog(db, { intervalMs: 60_000, maxBatch: 100 });
    // 1,000 reads, 10 per millisecond: about 50 arrive during each insert.
    for (let i = 0; i < 1000; i++) {
      log.record('app', 'customer', [`c${i}`]);
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await log.close();
    const written = inserts.flat();
    expect(written).toHaveLength(1000);
    expect(new Set(written).size).toBe(1000);
    // Whole batches (and what the close finds): not an insert per few reads.
    expect(inserts.length).toBeLessThanOrEqual(15);
  });

  it('writes what is buffered when flushed', async () => {
    const { db, inserts } = slowDatabase(1);
    const log = createPersonalDataLog(db, { intervalMs: 60_000 });
    log.record('app', 'customer', ['a', 'b']);
    log.record('analyst', 'audience.members', ['c']);
    await log.flush();
    expect(inserts.flat().sort()).toEqual(['a', 'b', 'c']);
    await log.close();
  });
});
