import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sql, type Kysely } from 'kysely';

interface Snapshot {
  table_snapshot: { table_name: string; column_definitions: { name: string; type: string }[]; rows: (string | null)[][] };
}

const TYPES: Readonly<Record<string, string>> = { STRING: 'text', TIME: 'timestamp', INT: 'bigint', FLOAT: 'double precision', BOOLEAN: 'boolean' };

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? yamlFiles(path) : name.endsWith('.yaml') ? [path] : [];
    });
}

/**
 * Loads MetricFlow's table snapshots (`table_snapshot: {table_name, column_definitions, rows}`)
 * into `schema`, creating one table per snapshot; every value is a bound parameter.
 */
export async function loadSnapshots(db: Kysely<any>, dataDir: string, schema: string): Promise<string[]> {
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  const tables: string[] = [];
  for (const file of yamlFiles(dataDir)) {
    const { table_snapshot: t } = parse(readFileSync(file, 'utf8')) as Snapshot;
    const columns = t.column_definitions.map((c) => sql`${sql.id(c.name)} ${sql.raw(TYPES[c.type] ?? 'text')}`);
    await sql`CREATE TABLE ${sql.table(`${schema}.${t.table_name}`)} (${sql.join(columns)})`.execute(db);
    const rows = t.rows ?? [];
    for (let i = 0; i < rows.length; i += 1000) {
      const batch = rows
        .slice(i, i + 1000)
        .map((row) => sql`(${sql.join(row.map((v, j) => sql`CAST(${v} AS ${sql.raw(TYPES[t.column_definitions[j]?.type ?? 'STRING'] ?? 'text')})`))})`);
      await sql`INSERT INTO ${sql.table(`${schema}.${t.table_name}`)} VALUES ${sql.join(batch)}`.execute(db);
    }
    tables.push(t.table_name);
  }
  return tables;
}
