import { Worker } from 'node:worker_threads';
import { siblingModule } from '../../store/project-files.ts';
import { SqlInterfaceError } from '../../modeling/sql-interface/sql-error.ts';
import { CATALOG_POSTGRES_VERSION, type SqlServerIdentity } from './server-identity.ts';

/** The in-memory PostgreSQL that answers catalog queries (see catalog-worker.ts). */
export interface CatalogMirror {
  /**
   * Sends frontend protocol messages (ending with Sync) with the catalog `ddl` loaded; resolves
   * with the backend messages. One exchange at a time, in order. Past the time limit the
   * worker is ended (the mirror holds no data: a fresh one is built on the next request) and
   * the exchange rejects with SQLSTATE 57014.
   */
  exchange(ddl: string, bytes: Uint8Array): Promise<Uint8Array>;
  /** Whether its worker runs now (it starts on the first catalog query). */
  started(): boolean;
  close(): Promise<void>;
}

const WORKER_URL = siblingModule(import.meta.url, 'catalog-worker');

interface Started {
  readonly worker: Worker;
}

/**
 * One mirror per endpoint, shared by its sessions: its worker starts on the first catalog
 * query (not at connection: the startup messages come from `identity`), and catalog queries
 * wait for it one at a time. Catalog queries come from SQL clients (psql's `\d`, BI tools'
 * metadata), so they run off the event loop and are bounded by `timeoutMs`.
 */
export function createCatalogMirror(options: { readonly timeoutMs: number; readonly identity: SqlServerIdentity }): CatalogMirror {
  let started: Promise<Started> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const workerData = { database: options.identity.database, version: options.identity.version, postgresVersion: CATALOG_POSTGRES_VERSION };
  const start = () => {
    started ??= new Promise<Started>((resolve, reject) => {
      const worker = new Worker(WORKER_URL, { workerData });
      worker.once('message', () => resolve({ worker }));
      worker.once('error', (error) => {
        started = undefined;
        reject(error);
      });
      worker.unref();
    });
    return started;
  };
  const exchangeNow = async (ddl: string, bytes: Uint8Array): Promise<Uint8Array> => {
    const current = start();
    const { worker } = await current;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.off('message', onMessage);
        if (started === current) started = undefined;
        void worker.terminate();
        reject(new SqlInterfaceError('57014', `canceling statement due to statement timeout: catalog queries may run ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      const onMessage = (reply: { ok: boolean; bytes?: Uint8Array; message?: string }) => {
        clearTimeout(timer);
        if (reply.ok && reply.bytes) resolve(reply.bytes);
        else reject(new Error(`catalog mirror: ${reply.message}`));
      };
      worker.once('message', onMessage);
      worker.postMessage({ ddl, bytes });
    });
  };
  return {
    exchange(ddl, bytes) {
      const result = queue.then(() => exchangeNow(ddl, bytes));
      queue = result.catch(() => undefined);
      return result;
    },
    started: () => started !== undefined,
    async close() {
      const current = started;
      started = undefined;
      const running = current === undefined ? undefined : await current.catch(() => undefined);
      await running?.worker.terminate();
    },
  };
}
