/**
 * What the SQL engine behind a semantic layer can execute, as Malloy's dialects declare
 * their capabilities: the compiler keeps the fastest shapes where they run and picks
 * equivalent ones where they do not. Every dialect gives the same rows (test/citus-shapes.test.ts).
 */
export interface SqlDialect {
  readonly name: SqlDialectName;
  /**
   * Whether a correlated subquery may appear in a statement whose FROM clause contains a
   * CTE or a subquery. PostgreSQL: yes (its planner turns many into semi-joins or index
   * probes). Citus 12: no ("correlated subqueries are not supported when the FROM clause
   * contains a CTE or subquery"), so the compiler emits uncorrelated forms: a grouped probe
   * for the last (or first) time per period of a semi-additive measure, and a join with
   * `bool_or` for the conversion test of aggregated anchors.
   */
  readonly supportsCorrelatedSubqueryWithCte: boolean;
}

export type SqlDialectName = 'postgres' | 'citus';

export const POSTGRES_DIALECT: SqlDialect = { name: 'postgres', supportsCorrelatedSubqueryWithCte: true };

/** Citus (distributed PostgreSQL): see docs/distribution.md. */
export const CITUS_DIALECT: SqlDialect = { name: 'citus', supportsCorrelatedSubqueryWithCte: false };

export function sqlDialect(name: SqlDialectName): SqlDialect {
  return name === 'citus' ? CITUS_DIALECT : POSTGRES_DIALECT;
}
