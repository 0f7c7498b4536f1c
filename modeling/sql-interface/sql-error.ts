/**
 * A statement the SQL interface refuses, with the PostgreSQL SQLSTATE a client expects
 * (`0A000` feature_not_supported, `42P01` undefined_table, `42703` undefined_column,
 * `42803` grouping_error, `42601` syntax_error, `22023` invalid_parameter_value).
 */
export class SqlInterfaceError extends Error {
  override readonly name = 'SqlInterfaceError';

  constructor(
    readonly sqlstate: string,
    message: string,
    /** The `HINT` field: what is supported instead. */
    readonly hint?: string,
    /** 1-based character position in the statement, when known. */
    readonly position?: number,
  ) {
    super(message);
  }
}

/** What the SQL interface answers, for hints. */
export const SUPPORTED_SQL =
  'Supported: SELECT over one semantic table (or a subquery over one) with dimension columns, MEASURE(metric) or an aggregate over a metric column, ' +
  'WHERE on dimension columns (=, <>, <, <=, >, >=, IN, BETWEEN, LIKE with a trailing %, IS [NOT] NULL, AND, OR, NOT), GROUP BY by name or position, ' +
  'ORDER BY, LIMIT, OFFSET, aliases, CAST of columns, date_trunc on time columns; catalog queries (pg_catalog, information_schema); SET, SHOW, BEGIN, COMMIT, ROLLBACK, DISCARD.';
