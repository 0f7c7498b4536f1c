/**
 * The worker thread of the catalog mirror (catalog-mirror.ts): an in-memory PGlite holding
 * empty tables shaped like the semantic tables, answering catalog queries of SQL clients in
 * raw protocol messages. Each request runs in a READ ONLY transaction that is rolled back,
 * so no client changes what another sees. At start the mirror takes the endpoint's identity
 * (server-identity.ts): its database is renamed to the endpoint's database name and
 * `version()` answers the endpoint's version string. Loaded by `tsx` in development and by
 * Node's own type stripping elsewhere: erasable TypeScript only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

interface Request {
  readonly ddl: string;
  readonly bytes: Uint8Array;
}

interface Identity {
  readonly database: string;
  readonly version: string;
  /** The PostgreSQL release the endpoint reports; the mirror's own must be the same. */
  readonly postgresVersion: string;
}

const port = parentPort;
if (!port) throw new Error('catalog-worker runs as a worker thread');
const identity = workerData as Identity;
const db = await PGlite.create();
const own = (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
if (own !== identity.postgresVersion)
  throw new Error(`the catalog mirror runs PostgreSQL ${own}, the endpoint reports ${identity.postgresVersion}: update CATALOG_POSTGRES_VERSION`);
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
// The mirror is this worker's alone: its catalogs may be edited (the database's name, version()).
await db.exec(`
  UPDATE pg_catalog.pg_database SET datname = ${literal(identity.database)} WHERE datname = current_database();
  CREATE OR REPLACE FUNCTION pg_catalog.version() RETURNS text LANGUAGE sql STABLE AS $$ SELECT ${literal(identity.version)}::text $$;
`);
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

port.postMessage({ ready: true });
