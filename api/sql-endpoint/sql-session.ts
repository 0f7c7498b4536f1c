import { SqlInterfaceError } from '../../modeling/sql-interface/sql-error.ts';
import { runCatalog } from './catalog-statement.ts';
import { sendError } from './error-response.ts';
import { bind, close, describe, execute, parse } from './extended-protocol.ts';
import { runMetric } from './metric-statement.ts';
import { createSessionContext, runSession, transactionStatus, type SessionContext, type SqlConnection, type SqlServices } from './session-context.ts';
import { parseSql } from './sql-catalog.ts';
import * as wire from './wire.ts';

export type { SqlServices } from './session-context.ts';
export { sqlCatalog } from './sql-catalog.ts';

/**
 * One authenticated SQL connection: reads the simple and extended query protocols and
 * answers each statement by what it is. SELECTs over semantic tables become metric queries
 * (with the caller's clearance, scope, small-cell threshold and analytics rate limit, as the
 * GraphQL `metrics` field); catalog queries go to the catalog mirror; session commands are
 * acknowledged. Messages are handled one at a time (pg-gateway pauses the socket meanwhile).
 */
export function createSqlSession(services: SqlServices, connection: SqlConnection) {
  const ctx = createSessionContext(services, connection);
  const { send } = connection;
  let skipping = false;
  return {
    /** Handles one frontend message (type byte, length, fields). */
    async handle(data: Buffer): Promise<void> {
      const reader = new wire.MessageReader(data);
      const type = reader.type;
      if (type === 'X') return connection.end();
      if (type === 'S') {
        skipping = false;
        ctx.portals.delete('');
        return send(wire.readyForQuery(transactionStatus(ctx)));
      }
      if (type === 'Q') return simpleQuery(ctx, reader.cstring());
      if (type === 'H') return;
      if (skipping) return;
      try {
        switch (type) {
          case 'P':
            return await parse(ctx, reader);
          case 'B':
            return bind(ctx, reader);
          case 'D':
            return await describe(ctx, reader);
          case 'E':
            return await execute(ctx, reader);
          case 'C':
            return close(ctx, reader);
          default:
            throw new SqlInterfaceError('08P01', `unsupported frontend message '${type}' (COPY and function calls are not supported)`);
        }
      } catch (error) {
        skipping = true;
        sendError(ctx, error);
      }
    },
    /**
     * A cancel request for this session: the metric statement running now is cancelled in the
     * database (store/cancel-scope.ts) and answers 57014 once the database has stopped it; when
     * it is still waiting for an analytics slot, or runs where it cannot be stopped (PGlite),
     * it answers 57014 at once. Without a metric statement running, nothing happens (as in
     * PostgreSQL; catalog queries are bounded by their own time limit).
     */
    async cancel(): Promise<void> {
      const current = ctx.running;
      if (!current) return;
      const outcome = await current.scope.cancel();
      if (outcome !== 'stopping') current.abandon(new SqlInterfaceError('57014', 'canceling statement due to user request'));
    },
  };
}

/** The simple query protocol: each statement of the string answered in turn, then ReadyForQuery. */
async function simpleQuery(ctx: SessionContext, text: string): Promise<void> {
  const { send } = ctx.connection;
  try {
    const parsed = await parseSql(ctx.services.semantic, text);
    if (parsed.length === 0) send(wire.emptyQueryResponse());
    for (const statement of parsed) {
      const answer =
        statement.kind === 'metric'
          ? await runMetric(ctx, statement.select, [], [], true)
          : statement.kind === 'catalog'
            ? await runCatalog(ctx, statement.text, { paramTypes: [], paramFormats: [], values: [], resultFormats: [] })
            : runSession(ctx, statement);
      if (answer.description) send(answer.description);
      for (const row of answer.rows) send(row);
      send(answer.empty ? wire.emptyQueryResponse() : wire.commandComplete(answer.tag));
    }
  } catch (error) {
    sendError(ctx, error);
  }
  send(wire.readyForQuery(transactionStatus(ctx)));
}
