import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { CompiledQuery, DatabaseConnection, Dialect } from 'kysely';
import { wrappingConnections } from './connection-wrapping.ts';

/** How SQL statements are traced. */
export interface SqlTracingOptions {
  /** The pool the statements run on (`main`, `analytics`, `probe`), recorded on each span. */
  readonly pool: string;
  /** Record the SQL text (`db.query.text`); never the parameters. Off by default: `STRATA_TRACE_SQL=1`. */
  readonly sqlText: boolean;
}

const NODE_KINDS: Readonly<Record<string, string>> = {
  SelectQueryNode: 'SELECT',
  InsertQueryNode: 'INSERT',
  UpdateQueryNode: 'UPDATE',
  DeleteQueryNode: 'DELETE',
  MergeQueryNode: 'MERGE',
};
const KEYWORDS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'WITH',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'COPY',
  'CREATE',
  'ALTER',
  'DROP',
  'SET',
  'SHOW',
  'LOCK',
  'TRUNCATE',
  'VALUES',
  'LISTEN',
  'UNLISTEN',
  'NOTIFY',
  'ANALYZE',
  'EXPLAIN',
  'DO',
]);

/** The statement kind of SQL text: its first keyword when it is a known one, else `OTHER` (span names stay a small set). */
export function statementKind(sqlText: string): string {
  const keyword = /^\s*([a-z]+)/i.exec(sqlText)?.[1]?.toUpperCase();
  return keyword && KEYWORDS.has(keyword) ? keyword : 'OTHER';
}

/**
 * Runs one statement inside a client span named after its kind (`SELECT`, `INSERT`, ...),
 * with `db.system.name`, `db.operation.name`, the rows returned or affected, and on failure
 * the SQLSTATE only (driver messages can quote parameter values). Spans are made only under
 * an active, recording span (a traced request): background work and an SDK that is off cost
 * one context lookup.
 */
export async function traceStatement<R extends { rows: readonly unknown[] }>(
  kind: string,
  sqlText: string,
  options: SqlTracingOptions & { readonly summary?: string },
  run: () => Promise<R>,
): Promise<R> {
  if (!trace.getActiveSpan()?.isRecording()) return run();
  return trace.getTracer('strata.sql').startActiveSpan(kind, { kind: SpanKind.CLIENT }, async (span: Span) => {
    span.setAttribute('db.system.name', 'postgresql');
    span.setAttribute('db.operation.name', kind);
    span.setAttribute('strata.db.pool', options.pool);
    if (options.summary) span.setAttribute('db.query.summary', options.summary);
    if (options.sqlText) span.setAttribute('db.query.text', sqlText);
    try {
      const result = await run();
      span.setAttribute('db.response.returned_rows', result.rows.length);
      const affected = (result as { numAffectedRows?: bigint }).numAffectedRows;
      if (affected !== undefined) span.setAttribute('strata.db.affected_rows', Number(affected));
      return result;
    } catch (error) {
      const sqlstate = (error as { code?: unknown } | null)?.code;
      if (typeof sqlstate === 'string') span.setAttribute('db.response.status_code', sqlstate);
      span.setStatus({ code: SpanStatusCode.ERROR, ...(typeof sqlstate === 'string' ? { message: `SQLSTATE ${sqlstate}` } : {}) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * A dialect whose connections trace every statement Kysely runs (see `traceStatement`);
 * everything else is the wrapped dialect's.
 *
 * ```ts
 * new Kysely<DatabaseSchema>({ dialect: tracedDialect(new PostgresDialect({ pool }), { pool: 'main', sqlText: false }) });
 * ```
 */
export function tracedDialect(dialect: Dialect, options: SqlTracingOptions): Dialect {
  return wrappingConnections(dialect, (connection) => {
    const execute = connection.executeQuery.bind(connection);
    connection.executeQuery = <R>(query: CompiledQuery, o2?: Parameters<DatabaseConnection['executeQuery']>[1]) =>
      traceStatement(kindOf(query), query.sql, options, () => execute<R>(query, o2));
  });
}

function kindOf(query: CompiledQuery): string {
  return NODE_KINDS[query.query.kind] ?? statementKind(query.sql);
}
