import {
  IdentifierNode,
  PGliteAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  RawNode,
  createQueryId,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type TransactionSettings,
} from 'kysely';
import type { PgliteWorkerClient } from './pglite-worker-client.ts';
import { PgliteWorkerConnection } from './pglite-worker-connection.ts';

/**
 * Kysely's dialect for PGlite running in a worker thread (`pglite-worker.ts`): the PostgreSQL
 * compiler and introspector, and PGlite's adapter, whose single connection Kysely guards with
 * a mutex, so a transaction holds the connection until it commits or rolls back.
 *
 * ```ts
 * const client = await startPgliteWorker({ dataDir: 'memory://', statementTimeoutMs: 30_000 });
 * const db = new Kysely<DatabaseSchema>({ dialect: createPgliteWorkerDialect(client) });
 * ```
 */
export function createPgliteWorkerDialect(client: PgliteWorkerClient): Dialect {
  return {
    createAdapter: (): DialectAdapter => new PGliteAdapter(),
    createDriver: (): Driver => new PgliteWorkerDriver(client),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector => new PostgresIntrospector(db),
    createQueryCompiler: (): QueryCompiler => new PostgresQueryCompiler(),
  };
}

class PgliteWorkerDriver implements Driver {
  readonly #client: PgliteWorkerClient;
  readonly #connection: PgliteWorkerConnection;

  constructor(client: PgliteWorkerClient) {
    this.#client = client;
    this.#connection = new PgliteWorkerConnection(client);
  }

  async init(): Promise<void> {
    // The worker is already open: startPgliteWorker resolves once PGlite is ready.
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    // One connection, released by Kysely's mutex.
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await (connection as PgliteWorkerConnection).begin(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteWorkerConnection).commit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteWorkerConnection).rollback();
  }

  async savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('savepoint', name), createQueryId()));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('rollback to', name), createQueryId()));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointCommand('release', name), createQueryId()));
  }

  async destroy(): Promise<void> {
    await this.#client.close();
  }
}

/** `savepoint "name"` with the name quoted as an identifier, as Kysely's own drivers build it. */
function savepointCommand(command: string, name: string): RawNode {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}
