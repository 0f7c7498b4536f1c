/** The staging layer of an exported project: a source per schema, one model per table, time spines, and `dbt_project.yml`. */
import type { TimeSpine } from '../catalog/types.ts';
import { lower, sourceTable, type ExportContext, type SourceTable, type Yaml } from './export-context.ts';
import { commentBlock, yamlText } from './export-yaml.ts';

/** The tables the project stages (one dbt model each, unique by name) and the schema most of them are in. */
export interface Staging {
  readonly tables: readonly SourceTable[];
  readonly spines: readonly (SourceTable & { readonly spine: TimeSpine })[];
  /** Staged tables by schema, in the order first staged. */
  readonly schemas: ReadonlyMap<string, number>;
  readonly mainSchema: string;
}

/** The tables to stage: every model's and every time spine's, the first of each name. */
export function stageTables(ctx: ExportContext): Staging {
  const spines = (ctx.catalog.timeSpines ?? []).map((spine) => ({ spine, ...sourceTable(spine.table) }));
  const staged = new Map<string, SourceTable>();
  for (const t of [...ctx.tables.values(), ...spines]) {
    const known = staged.get(t.table);
    if (known && known.schema !== t.schema)
      ctx.note(`${t.schema}.${t.table}: a table of that name in ${known.schema} is exported already; dbt model names are unique`);
    else staged.set(t.table, { schema: t.schema, table: t.table });
  }
  const schemas = new Map<string, number>();
  for (const t of staged.values()) schemas.set(t.schema, (schemas.get(t.schema) ?? 0) + 1);
  const mainSchema = [...schemas].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'public';
  return { tables: [...staged.values()], spines, schemas, mainSchema };
}

/** `dbt_project.yml`, its comment saying where the staging models are built and where Strata reads them. */
export function dbtProjectFile(projectName: string, staging: Staging): string {
  const { schemas, mainSchema } = staging;
  return (
    commentBlock([
      `The ${projectName} semantic layer, written by \`strata dbt export\` in dbt's authoring form.`,
      'Each staging model selects a source table unchanged. dbt builds them in your target schema: never',
      `build into ${[...schemas.keys()].join(', ')} itself, where the sources live.`,
      'Strata serves ref() from STRATA_DBT_SCHEMA: your target schema after `dbt run`, or the source schema',
      `(${mainSchema}) to read the source tables directly (same names and columns).`,
      ...(schemas.size > 1
        ? [
            `Models over tables outside ${mainSchema} configure their schema (models/staging/_staging.yml): Strata reads it as`,
            "written; dbt's default generate_schema_name prefixes your target schema, a custom one may not (then it would",
            'replace the source table: keep the default, or remove those schema configurations before `dbt run`).',
          ]
        : []),
    ]) +
    yamlText({
      name: projectName,
      version: '1.0.0',
      'config-version': 2,
      profile: projectName,
      'model-paths': ['models'],
      models: { [projectName]: { '+materialized': 'view' } },
    })
  );
}

/** `models/sources.yml`, a `select *` model per staged table, and `_staging.yml` where a model needs configuring. */
export function stagingFiles(staging: Staging): [path: string, text: string][] {
  const bySchema = new Map<string, string[]>();
  for (const t of staging.tables) bySchema.set(t.schema, [...(bySchema.get(t.schema) ?? []), t.table]);
  const files: [string, string][] = [
    [
      'models/sources.yml',
      yamlText({
        version: 2,
        sources: [...bySchema].map(([schema, list]) => ({ name: schema, schema, tables: [...new Set(list)].map((name) => ({ name })) })),
      }),
    ],
  ];
  for (const t of staging.tables) files.push([`models/staging/${t.table}.sql`, `select * from {{ source('${t.schema}', '${t.table}') }}\n`]);
  const models = modelEntries(staging);
  if (models.length) files.push(['models/staging/_staging.yml', yamlText({ version: 2, models })]);
  return files;
}

/** Staging models that need configuring: outside the main schema (their schema), or over a time spine (`time_spine:`). */
function modelEntries({ tables, spines, mainSchema }: Staging): Yaml[] {
  return tables.flatMap((t) => {
    const spine = spines.find((s) => s.table === t.table)?.spine;
    if (!spine && t.schema === mainSchema) return [];
    return [
      {
        name: t.table,
        ...(t.schema !== mainSchema ? { config: { schema: t.schema } } : {}),
        ...(spine
          ? {
              time_spine: {
                standard_granularity_column: spine.column,
                ...(spine.customGranularities.length
                  ? {
                      custom_granularities: spine.customGranularities.map((c) => ({ name: c.name, ...(c.column !== c.name ? { column_name: c.column } : {}) })),
                    }
                  : {}),
              },
              columns: [{ name: spine.column, granularity: lower(spine.grain) }, ...spine.customGranularities.map((c) => ({ name: c.column }))],
            }
          : {}),
      },
    ];
  });
}
