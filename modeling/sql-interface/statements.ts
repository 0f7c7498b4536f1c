import { loadModule, parseSync } from 'libpg-query';
import type { SqlTable } from './semantic-tables.ts';
import { SqlInterfaceError, SUPPORTED_SQL } from './sql-error.ts';

type Ast = any;

/** One statement of a query string, classified by what answers it. */
export type SqlStatement =
  /** A SELECT over a semantic table: translated into a metric query. */
  | { readonly kind: 'metric'; readonly text: string; readonly select: Ast }
  /** A catalog or session query (`pg_catalog`, `information_schema`, `version()`, `SHOW`): answered by the catalog mirror. */
  | { readonly kind: 'catalog'; readonly text: string }
  /**
   * A session command acknowledged without effect (`SET`, `DISCARD ALL`), with its command
   * tag; or `SHOW server_version`, which the endpoint answers itself (`show`: the setting).
   */
  | { readonly kind: 'session'; readonly text: string; readonly tag: string; readonly transaction?: 'begin' | 'end'; readonly show?: 'server_version' };

let loaded: Promise<void> | undefined;

/** Loads the PostgreSQL parser (WebAssembly) once; `parseStatements` needs it. */
export function loadSqlParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

/**
 * Splits and classifies a query string with PostgreSQL's own parser (libpg-query). An
 * empty string gives no statements. Throws `SqlInterfaceError` (42601) on a syntax error and
 * (0A000) on statements the endpoint does not run: anything that writes, DDL, COPY, and
 * queries mixing the semantic tables with the catalog.
 *
 * ```ts
 * await loadSqlParser();
 * parseStatements('SET DateStyle = ISO; SELECT version()', tables).map((s) => s.kind); // ['session', 'catalog']
 * ```
 */
export function parseStatements(sql: string, tables: ReadonlyMap<string, SqlTable>): SqlStatement[] {
  let tree: Ast;
  try {
    tree = parseSync(sql);
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const message = error instanceof Error ? error.message : String(error);
    throw new SqlInterfaceError('42601', message, undefined, details?.cursorPosition !== undefined ? details.cursorPosition + 1 : undefined);
  }
  const bytes = Buffer.from(sql, 'utf8');
  return (tree.stmts ?? []).map((raw: Ast) => {
    const start = raw.stmt_location ?? 0;
    const text = bytes
      .subarray(start, raw.stmt_len ? start + raw.stmt_len : bytes.length)
      .toString('utf8')
      .trim();
    return classify(raw.stmt, text, tables);
  });
}

function classify(stmt: Ast, text: string, tables: ReadonlyMap<string, SqlTable>): SqlStatement {
  const [kind] = Object.keys(stmt);
  const node = stmt[kind as string];
  switch (kind) {
    case 'SelectStmt': {
      const relations = rangeVars(node);
      const semantic = relations.filter((r) => tables.has(r.relname) && (!r.schemaname || r.schemaname === 'public'));
      if (semantic.length === 0) {
        if (node.intoClause) throw new SqlInterfaceError('0A000', 'SELECT INTO is not supported: the endpoint is read-only', SUPPORTED_SQL);
        if (node.lockingClause) throw new SqlInterfaceError('0A000', 'FOR UPDATE/SHARE is not supported: the endpoint is read-only', SUPPORTED_SQL);
        return { kind: 'catalog', text };
      }
      if (semantic.length !== relations.length)
        throw new SqlInterfaceError('0A000', 'a query cannot combine semantic tables with catalog tables or other relations', SUPPORTED_SQL);
      if (semantic.length > 1)
        throw new SqlInterfaceError('0A000', 'joins are not supported: each model is one table with every dimension it reaches', SUPPORTED_SQL);
      return { kind: 'metric', text, select: node };
    }
    case 'VariableShowStmt':
      // The mirror's own server_version cannot be changed (an internal setting): the endpoint's identity answers it.
      return String(node.name).toLowerCase() === 'server_version' ? { kind: 'session', text, tag: 'SHOW', show: 'server_version' } : { kind: 'catalog', text };
    case 'VariableSetStmt':
      return { kind: 'session', text, tag: node.kind === 'VAR_RESET' || node.kind === 'VAR_RESET_ALL' ? 'RESET' : 'SET' };
    case 'DiscardStmt':
      return { kind: 'session', text, tag: 'DISCARD ALL' };
    case 'DeallocateStmt':
      return { kind: 'session', text, tag: 'DEALLOCATE' };
    case 'TransactionStmt':
      return transaction(node.kind, text);
    case 'CreateStmt':
    case 'CreateTableAsStmt':
      if ((node.relation ?? node.into?.rel)?.relpersistence === 't')
        // Tableau's extracts probe and use temporary tables (cube-js/cube#10721).
        throw new SqlInterfaceError(
          '0A000',
          'temporary tables are not supported: this endpoint is read-only and keeps no session state; query the semantic tables directly (in Tableau, a live connection)',
          SUPPORTED_SQL,
        );
      throw new SqlInterfaceError(
        '0A000',
        `${statementName(kind)} is not supported: this endpoint is read-only and answers metric queries and catalog queries`,
        SUPPORTED_SQL,
      );
    default:
      throw new SqlInterfaceError(
        '0A000',
        `${statementName(kind as string)} is not supported: this endpoint is read-only and answers metric queries and catalog queries`,
        SUPPORTED_SQL,
      );
  }
}

function transaction(kind: string, text: string): SqlStatement {
  switch (kind) {
    case 'TRANS_STMT_BEGIN':
      return { kind: 'session', text, tag: 'BEGIN', transaction: 'begin' };
    case 'TRANS_STMT_START':
      return { kind: 'session', text, tag: 'START TRANSACTION', transaction: 'begin' };
    case 'TRANS_STMT_COMMIT':
      return { kind: 'session', text, tag: 'COMMIT', transaction: 'end' };
    case 'TRANS_STMT_ROLLBACK':
      return { kind: 'session', text, tag: 'ROLLBACK', transaction: 'end' };
    default:
      throw new SqlInterfaceError('0A000', 'savepoints and two-phase commit are not supported', SUPPORTED_SQL);
  }
}

/** `CreateStmt` -> `CREATE`: the statement's kind in words for messages. */
function statementName(kind: string): string {
  return kind
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}

/** Every table reference (RangeVar) anywhere in a statement: FROM items, subqueries, CTEs. */
function rangeVars(node: Ast): { relname: string; schemaname?: string }[] {
  const found: { relname: string; schemaname?: string }[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (key === 'RangeVar') found.push(child as { relname: string; schemaname?: string });
      else visit(child);
    }
  };
  visit(node);
  return found;
}
