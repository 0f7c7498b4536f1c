import type { DatabaseConnection, Dialect, Driver } from 'kysely';

/**
 * A dialect whose connections pass through `wrap` once each, in place, when the driver first
 * hands them out: connections are reused, and the driver must get back the object it made.
 * Everything else is the inner dialect's. How SQL tracing and cancel scopes see statements.
 */
export function wrappingConnections(dialect: Dialect, wrap: (connection: DatabaseConnection) => void): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => wrappingDriver(dialect.createDriver(), wrap),
  };
}

function wrappingDriver(inner: Driver, wrap: (connection: DatabaseConnection) => void): Driver {
  const wrapped = new WeakSet<DatabaseConnection>();
  const driver: Driver = {
    init: (o) => inner.init(o),
    acquireConnection: async (o) => {
      const connection = await inner.acquireConnection(o);
      if (!wrapped.has(connection)) {
        wrap(connection);
        wrapped.add(connection);
      }
      return connection;
    },
    beginTransaction: (c, s) => inner.beginTransaction(c, s),
    commitTransaction: (c) => inner.commitTransaction(c),
    rollbackTransaction: (c) => inner.rollbackTransaction(c),
    releaseConnection: (c, o) => inner.releaseConnection(c, o),
    destroy: (o) => inner.destroy(o),
  };
  if (inner.savepoint) driver.savepoint = (c, n, q) => inner.savepoint?.(c, n, q) ?? Promise.resolve();
  if (inner.rollbackToSavepoint) driver.rollbackToSavepoint = (c, n, q) => inner.rollbackToSavepoint?.(c, n, q) ?? Promise.resolve();
  if (inner.releaseSavepoint) driver.releaseSavepoint = (c, n, q) => inner.releaseSavepoint?.(c, n, q) ?? Promise.resolve();
  return driver;
}
