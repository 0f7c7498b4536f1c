/** The semantic tables and the catalog mirror's DDL of a semantic layer, built once per layer, and statements parsed against them. */
import type { SemanticLayer } from '../../modeling/semantic-layer.ts';
import { parseStatements, type SqlStatement } from '../../modeling/sql-interface/statements.ts';
import { semanticTables, type SqlTable } from '../../modeling/sql-interface/semantic-tables.ts';
import { catalogDdl } from '../../modeling/sql-interface/catalog-ddl.ts';

/** The semantic tables and the mirror's DDL of one semantic layer (a new layer when tags are published). */
interface SqlCatalog {
  readonly tables: ReadonlyMap<string, SqlTable>;
  readonly ddl: string;
}

const catalogs = new WeakMap<SemanticLayer, SqlCatalog>();

/** The SQL tables of a semantic layer, built once per layer. */
export function sqlCatalog(layer: SemanticLayer): SqlCatalog {
  let catalog = catalogs.get(layer);
  if (!catalog) {
    const tables = semanticTables(layer.index);
    catalog = { tables, ddl: catalogDdl(tables.values()) };
    catalogs.set(layer, catalog);
  }
  return catalog;
}

/** The statements of a query string, classified against the current semantic layer's tables. */
export async function parseSql(semantic: () => Promise<SemanticLayer>, text: string): Promise<SqlStatement[]> {
  return parseStatements(text, sqlCatalog(await semantic()).tables);
}
