import pg from 'pg';

/** `work` on a connection of its own to `url`, closed after (CREATE and DROP DATABASE run outside any pool). */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** One statement on a connection of its own to `url` (the benches' CREATE and DROP DATABASE). */
export async function runStatement(url: string, text: string): Promise<void> {
  await withClient(url, (client) => client.query(text));
}
