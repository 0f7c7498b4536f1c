import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Streams CSV text into `table` with `COPY ... FROM STDIN` on one pooled connection. */
export async function copyCsvToPostgres(pool: pg.Pool, table: string, columns: readonly string[], csv: AsyncIterable<string> | string): Promise<void> {
  const client = await pool.connect();
  try {
    const target = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv)`));
    const source = typeof csv === 'string' ? Readable.from([csv]) : Readable.from(csv);
    await pipeline(source, target);
  } finally {
    client.release();
  }
}
