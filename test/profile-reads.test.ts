import { describe, expect, it } from 'vitest';
import { coalescedProfileReads } from '../services/profile-reads.ts';
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

  it('never puts more than 1,000 ids in one statement, nor splits one read', async () => {
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const database = fakeDatabase([...many('a', 600), ...many('b', 600)]);
    const reads = coalescedProfileReads(database);
    const [a, b, c] = await Promise.all([reads.read(many('a', 600)), reads.read(many('b', 600)), reads.read(['a1'])]);
    expect(database.statements.map((s) => s.length)).toEqual([600, 601]);
    expect(a).toHaveLength(600);
    expect(b).toHaveLength(600);
    expect(c).toEqual([row('a1')]);
  });

  it('fails every read a failed statement carried, and only those', async () => {
    const failing = fakeDatabase(['c1'], new Error('connection lost'));
    const reads = coalescedProfileReads(failing);
    const outcomes = await Promise.allSettled([reads.read(['c1']), reads.read(['c2'])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(failing.statements).toHaveLength(1);
    expect(await reads.read([])).toEqual([]);
  });
});
