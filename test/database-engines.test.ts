import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createTestDatabase, testEngines, type TestDatabase } from './support/engines.ts';

interface Scratch {
  scratch_items: { id: number; label: string; amount: string | null };
}

/**
 * What every caller of `openDatabase` relies on, whichever engine (PGlite runs in a worker
 * thread): the same value shapes, transactions that roll back, COPY, and PostgreSQL's error
 * fields (SQLSTATE, constraint) on a failed statement.
 */
describe.each(await testEngines())('database values and transactions on %s', (engine) => {
  let database: TestDatabase;
  let db: Kysely<Scratch>;

  beforeAll(async () => {
    database = await createTestDatabase(engine, { migrate: false });
    db = database.db as unknown as Kysely<Scratch>;
    await sql`CREATE TABLE scratch_items (id int PRIMARY KEY, label text NOT NULL, amount numeric(12, 2))`.execute(db);
  });
  afterAll(async () => {
    await database.dispose();
  });

  it('returns numeric as text, date as YYYY-MM-DD, timestamptz as Date, safe int8 as number, jsonb parsed, arrays', async () => {
    const { rows } = await sql`
      SELECT 12.50::numeric AS amount, DATE '2026-02-28' AS day, TIMESTAMPTZ '2026-02-28 10:00:00+08' AS at,
        42::int8 AS small, 9007199254740993::int8 AS huge, '{"a": [1, 2], "b": null}'::jsonb AS doc,
        ARRAY['x', 'y']::text[] AS tags, ARRAY[1, 2]::int[] AS ranks, true AS flag, NULL::text AS nothing`.execute(db);
    expect(rows).toEqual([
      {
        amount: '12.50',
        day: '2026-02-28',
        at: new Date('2026-02-28T02:00:00Z'),
        small: 42,
        huge: '9007199254740993',
        doc: { a: [1, 2], b: null },
        tags: ['x', 'y'],
        ranks: [1, 2],
        flag: true,
        nothing: null,
      },
    ]);
  });

  it('binds dates, arrays, JSON and nulls as parameters', async () => {
    const at = new Date('2026-03-01T08:30:00.125Z');
    const { rows } = await sql`
      SELECT ${at}::timestamptz AS at, ${['a', 'b']}::text[] AS list, ${JSON.stringify({ k: 'v' })}::jsonb AS doc,
        ${null}::int AS missing, ${'2026-03-01'}::date AS day`.execute(db);
    expect(rows).toEqual([{ at, list: ['a', 'b'], doc: { k: 'v' }, missing: null, day: '2026-03-01' }]);
  });

  it('rolls a transaction back when a statement fails, with the SQLSTATE and constraint of the failure', async () => {
    await db.insertInto('scratch_items').values({ id: 1, label: 'kept', amount: '1.00' }).execute();
    const attempt = db.transaction().execute(async (trx) => {
      await trx.insertInto('scratch_items').values({ id: 2, label: 'rolled back', amount: null }).execute();
      await trx.insertInto('scratch_items').values({ id: 1, label: 'duplicate', amount: null }).execute();
    });
    await expect(attempt).rejects.toMatchObject({ code: '23505', constraint: 'scratch_items_pkey', message: expect.stringMatching(/duplicate key/) });
    await expect(attempt).rejects.toBeInstanceOf(Error);
    expect(await db.selectFrom('scratch_items').select(['id', 'label']).orderBy('id').execute()).toEqual([{ id: 1, label: 'kept' }]);
  });

  it('rolls back to a savepoint and commits the rest', async () => {
    const trx = await db.startTransaction().execute();
    await trx.insertInto('scratch_items').values({ id: 10, label: 'before savepoint', amount: null }).execute();
    const inner = await trx.savepoint('before_second').execute();
    await inner.insertInto('scratch_items').values({ id: 11, label: 'after savepoint', amount: null }).execute();
    await inner.rollbackToSavepoint('before_second').execute();
    await trx.commit().execute();
    expect(await db.selectFrom('scratch_items').select('id').where('id', '>=', 10).execute()).toEqual([{ id: 10 }]);
  });

  it('loads CSV with COPY from a string and from chunks', async () => {
    await database.copyCsv('scratch_items', ['id', 'label', 'amount'], '20,"comma, and ""quotes""",3.50\n21,plain,\n');
    async function* chunks() {
      yield '22,first ';
      yield 'chunk,1\n23,second,2\n';
    }
    await database.copyCsv('scratch_items', ['id', 'label', 'amount'], chunks());
    const rows = await db.selectFrom('scratch_items').selectAll().where('id', '>=', 20).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 20, label: 'comma, and "quotes"', amount: '3.50' },
      { id: 21, label: 'plain', amount: null },
      { id: 22, label: 'first chunk', amount: '1.00' },
      { id: 23, label: 'second', amount: '2.00' },
    ]);
  });

  it('refuses a bad COPY row and keeps none of its batch', async () => {
    const copy = database.copyCsv('scratch_items', ['id', 'label', 'amount'], '30,fine,1\n31,bad amount,abc\n');
    await expect(copy).rejects.toMatchObject({ code: '22P02' });
    expect(await db.selectFrom('scratch_items').select('id').where('id', '>=', 30).execute()).toEqual([]);
  });
});
