/** What the names of a SELECT being translated stand for: its bindings, its FROM relation and each level reduced to metric-query parts. */
import type { Filter, Grain } from '../catalog/types.ts';
import type { OrderByInput } from '../query/metric-query.ts';
import type { SqlColumnType, SqlTable } from './semantic-tables.ts';

/** A node of libpg-query's JSON AST (PostgreSQL's own parse tree). */
export type Ast = any;

/** The PostgreSQL types a result column can have (after a CAST). */
export type OutputType = SqlColumnType | 'integer' | 'bigint' | 'double precision' | 'timestamp' | 'character varying';

/** Parameter values of the extended protocol (`$1` is index 0), as text; null is SQL NULL. */
export type SqlParameters = readonly (string | null)[];

/** What an expression of the select list stands for. */
export type Binding =
  | { readonly kind: 'dimension'; readonly dimension: string; readonly grain?: Grain; readonly type: OutputType }
  | { readonly kind: 'metric'; readonly metric: string; readonly type: OutputType; readonly aggregated: boolean };

/** An item of the select list: its output name and what it stands for. */
export interface Target {
  readonly name: string;
  readonly binding: Binding;
  readonly node: Ast;
}

/** The columns a FROM item offers: a semantic table, or the output of a subquery over one. */
export interface Relation {
  readonly table: SqlTable;
  readonly alias: string | undefined;
  readonly columns: ReadonlyMap<string, Binding>;
  /** What the subquery adds: its filters, and its grouping, order and limit when it aggregates. */
  readonly inner?: Level;
}

/** One SELECT level reduced to metric-query parts. */
export interface Level {
  readonly relation: Relation;
  readonly targets: readonly Target[];
  readonly groupBy: readonly Binding[] | undefined;
  readonly where: readonly Filter[];
  readonly orderBy: readonly OrderByInput[];
  readonly limit: number | undefined;
  readonly offset: number | undefined;
  readonly empty: boolean;
}

/** What names and parameters in one SELECT level refer to. */
export interface Scope {
  readonly relation: Relation;
  readonly parameters: SqlParameters;
}

export function sameBinding(a: Binding, b: Binding): boolean {
  if (a.kind === 'metric') return b.kind === 'metric' && a.metric === b.metric;
  return b.kind === 'dimension' && a.dimension === b.dimension && a.grain === b.grain;
}

/** The text of a `String` node (a name in the AST). */
export function stringOf(node: Ast): string | undefined {
  return node?.String?.sval;
}
