import { describe, expect, it } from 'vitest';
import { coalescedProfileReads, coalescedProfileWithCountsReads } from '../services/profile-reads.ts';
import type { ProfileRow } from '../services/snapshot.ts';

/**
 * Profile reads asked for in the same turn of the event loop go out as one statement
 * (services/profile-reads.ts), and each caller gets the rows of its own ids only, in one
 * statement's snapshot; a failed statement fails every read it carried.
 */

const row = (id: string): ProfileRow => ({ customer_id: id, tags: { tier: `tier of ${id}` }, audiences: [] });

/** A database whose profile table holds `known`, recording each statement's ids. */
function fakeDatabase(known: readonly string[], fail?: Error) {
  const statements: string[][] = [];
  return {
    statements,
    preparedRead: async <R>(_name: string, _text: string, values: readonly unknown[]): Promise<R[]> => {
      const ids = (Array.isArray(values[0]) ? values[0] : values) as string[];
      statements.push([...ids]);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (fail) throw fail;
      return ids.filter((id) => known.includes(id)).map(row) as R[];
    },
  };
}

describe('coalesced profile reads', () => {
  it('answers reads of the same turn with one statement, each caller its own rows', async () => {
    const database = fakeDatabase(['c1', 'c2', 'c3']);
    const reads = coalescedProfileReads(database);
    const [a, b, c, d] = await Promise.all([reads.read(['c1']), reads.read(['c2', 'unknown']), reads.read(['c1', 'c3']), reads.read(['nobody'])]);
    expect(database.statements).toHaveLength(1);
    expect(new Set(database.statements[0])).toEqual(new Set(['c1', 'c2', 'unknown', 'c3', 'nobody']));
    expect(a).toEqual([row('c1')]);
    expect(b).toEqual([row('c2')]);
    expect(c).toEqual([row('c1'), row('c3')]);
    expect(d).toEqual([]);
  });

  it('sends a read of a later turn in a statement of its own', async () => {
    const database = fakeDatabase(['c1', 'c2']);
    const reads = coalescedProfileReads(database);
    expect(await reads.read(['c1'])).toEqual([row('c1')]);
    expect(await reads.read(['c2'])).toEqual([row('c2')]);
    expect(database.statements).toEqual([['c1'], ['c2']]);
  });

  it('sends a read of many ids alone and at once, and merges small reads up to 128 ids, never splitting one', async () => {
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const database = fakeDatabase([...many('a', 600), ...many('s', 200)]);
    const reads = coalescedProfileReads(database);
    // A large read does not wait for the turn's small ones: its statement is the first.
    const small = Array.from({ length: 20 }, (_, i) => reads.read(many(`s${i}-`, 10).map((_, j) => `s${i * 10 + j}`)));
    const large = reads.read(many('a', 600));
    const answers = await Promise.all([large, ...small]);
    expect(database.statements[0]).toHaveLength(600);
    // 200 small ids in statements of whole reads of at most 128 ids: 120 and 80.
    expect(database.statements.slice(1).map((ids) => ids.length)).toEqual([120, 80]);
    expect(answers[0]).toHaveLength(600);
    answers.slice(1).forEach((rows, i) => expect(rows.map((r) => r.customer_id)).toEqual(many('s', 200).slice(i * 10, i * 10 + 10)));
  });

  it('fails every read a failed statement carried, and only those', async () => {
    const failing = fakeDatabase(['c1'], new Error('connection lost'));
    const reads = coalescedProfileReads(failing);
    const outcomes = await Promise.allSettled([reads.read(['c1']), reads.read(['c2'])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(failing.statements).toHaveLength(1);
    expect(await reads.read([])).toEqual([]);
  });

  it("answers decide's reads of the same turn with one statement, each caller its own customer and day", async () => {
    const statements: unknown[][] = [];
    const database = {
      prepared: async <R>(_name: string, _text: string, values: readonly unknown[]): Promise<R[]> => {
        statements.push([...values]);
        // Several keys travel as one JSON array of `{id, since}`, one key as two scalars.
        const keys = (values.length === 1 ? JSON.parse(values[0] as string) : [{ id: values[0], since: values[1] }]) as { id: string; since: string }[];
        return keys.map(({ id, since }) => ({ id, since, customer_id: id === 'nobody' ? null : id, counts: [{ day: since }] })) as R[];
      },
    };
    const reads = coalescedProfileWithCountsReads(database);
    const [a, b, c, d] = await Promise.all([
      reads.read([{ id: 'c1', since: '2026-06-01' }]),
      reads.read([{ id: 'c1', since: '2026-06-10' }]),
      reads.read([{ id: 'nobody', since: '2026-06-01' }]),
      reads.read([{ id: 'c1', since: '2026-06-01' }]),
    ]);
    // Three distinct keys in one statement: the repeated key is read once.
    expect(statements.map((values) => values.map((value) => JSON.parse(value as string)))).toEqual([
      [
        [
          { id: 'c1', since: '2026-06-01' },
          { id: 'c1', since: '2026-06-10' },
          { id: 'nobody', since: '2026-06-01' },
        ],
      ],
    ]);
    expect(a).toEqual([{ id: 'c1', since: '2026-06-01', customer_id: 'c1', counts: [{ day: '2026-06-01' }] }]);
    expect(b).toEqual([{ id: 'c1', since: '2026-06-10', customer_id: 'c1', counts: [{ day: '2026-06-10' }] }]);
    expect(c).toEqual([{ id: 'nobody', since: '2026-06-01', customer_id: null, counts: [{ day: '2026-06-01' }] }]);
    expect(d).toEqual(a);
    // A read alone goes out as the one-customer statement, with scalar parameters.
    expect(await reads.read([{ id: 'c2', since: '2026-06-01' }])).toHaveLength(1);
    expect(statements[1]).toEqual(['c2', '2026-06-01']);
  });
});
