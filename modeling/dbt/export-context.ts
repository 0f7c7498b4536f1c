/** What every part of a dbt export reads and adds to: the catalog's models and tables, the notes and the groups. */
import type { Catalog, Model } from '../catalog/types.ts';

/** A YAML mapping being written. */
export type Yaml = Record<string, unknown>;

/** Why a definition cannot be written, to skip it with a note. */
export class Inexpressible extends Error {}

/** A grain as MetricFlow writes it (`month`). */
export const lower = (grain: string) => grain.toLowerCase();

/** A table by schema and name; an unqualified name is in `public`. */
export interface SourceTable {
  readonly schema: string;
  readonly table: string;
}

/** `wealth.transactions` as schema and table. */
export function sourceTable(qualified: string): SourceTable {
  const [schema, table] = qualified.includes('.') ? qualified.split('.') : ['public', qualified];
  return { schema: schema as string, table: table as string };
}

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '') || 'owner';

/** The state of one export, passed to each part instead of shared through closures. */
export interface ExportContext {
  readonly catalog: Catalog;
  readonly models: ReadonlyMap<string, Model>;
  /** The source table of each model that reads a table (not a SQL query). */
  readonly tables: ReadonlyMap<string, SourceTable>;
  /** What MetricFlow cannot express the way Strata serves it, each said once, in the order found. */
  readonly notes: readonly string[];
  /** dbt groups by name, each with its owner, in the order first used. */
  readonly owners: ReadonlyMap<string, string>;
  note(text: string): void;
  /** A measure's dbt name: prefixed by its model where several models have a measure of that name. */
  measureName(model: string, measure: string): string;
  /** The dbt group of an owner, declared in `groups.yml`. */
  groupOf(owner: string): string;
}

export function createExportContext(catalog: Catalog): ExportContext {
  const notes: string[] = [];
  const tables = new Map<string, SourceTable>();
  for (const model of catalog.models) if ('table' in model.source) tables.set(model.name, sourceTable(model.source.table));
  const measureOwners = new Map<string, string[]>();
  for (const model of catalog.models) for (const m of model.measures) measureOwners.set(m.name, [...(measureOwners.get(m.name) ?? []), model.name]);
  const owners = new Map<string, string>();
  return {
    catalog,
    models: new Map(catalog.models.map((m) => [m.name, m])),
    tables,
    notes,
    owners,
    note(text) {
      if (!notes.includes(text)) notes.push(text);
    },
    measureName: (model, measure) => ((measureOwners.get(measure)?.length ?? 0) > 1 ? `${model}_${measure}` : measure),
    groupOf(owner) {
      owners.set(slug(owner), owner);
      return slug(owner);
    },
  };
}
