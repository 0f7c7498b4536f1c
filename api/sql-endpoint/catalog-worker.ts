/**
 * The worker thread of the catalog mirror (catalog-mirror.ts): an in-memory PGlite holding
 * empty tables shaped like the semantic tables, answering catalog queries of SQL clients in
 * raw protocol messages. Each request runs in a READ ONLY transaction that is rolled back,
 * so no client changes what another sees. Loaded by `tsx` in development and by Node's own
 * type stripping elsewhere: erasable TypeScript only.
 */
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

interface Request {
  readonly ddl: string;
  readonly bytes: Uint8Array;
}

const port = parentPort;
if (!port) throw new Error('catalog-worker runs as a worker thread');
const db = await PGlite.create();
let loaded: string | undefined;

port.on('message', (request: Request) => {
  void answer(request).then(
    (bytes) => port.postMessage({ ok: true, bytes }),
    (error: unknown) => port.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) }),
  );
});

async function answer({ ddl, bytes }: Request): Promise<Uint8Array> {
  if (ddl !== loaded) {
    await db.exec(`DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; ${ddl}`);
    loaded = ddl;
  }
  await db.exec('BEGIN READ ONLY');
  try {
    return await db.execProtocolRaw(bytes);
  } finally {
    await db.exec('ROLLBACK');
  }
}

const version = await db.query<{ server_version: string }>('SHOW server_version');
port.postMessage({ ready: true, serverVersion: version.rows[0]?.server_version ?? '17' });
