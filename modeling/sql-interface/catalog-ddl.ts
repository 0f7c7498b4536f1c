import type { SqlTable } from './semantic-tables.ts';

const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/**
 * The DDL of the catalog mirror: one empty table per semantic table, with its columns' types
 * and the definitions' descriptions as comments. Run in an in-memory PostgreSQL (PGlite), it
 * makes `pg_catalog` and `information_schema` describe the semantic tables exactly as
 * PostgreSQL would: psql's `\d`, JDBC's metadata calls and SQLAlchemy's reflection read it.
 * It holds no data: metric queries never run there.
 */
export function catalogDdl(tables: Iterable<SqlTable>): string {
  const statements: string[] = [];
  for (const table of tables) {
    const name = `public.${quoteIdentifier(table.name)}`;
    statements.push(`CREATE TABLE ${name} (${table.columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ')});`);
    if (table.description) statements.push(`COMMENT ON TABLE ${name} IS ${quoteLiteral(table.description)};`);
    for (const column of table.columns)
      if (column.description) statements.push(`COMMENT ON COLUMN ${name}.${quoteIdentifier(column.name)} IS ${quoteLiteral(column.description)};`);
  }
  return statements.join('\n');
}
