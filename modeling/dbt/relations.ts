import type { DbtProjectFile } from './dbt-project.ts';
import type { YamlNode } from './yaml-node.ts';

/** `ref('name')`, `ref('package', 'name')`, `ref('name', v=2)`, optionally inside `{{ }}`. */
const REF = /^\s*(?:\{\{\s*)?ref\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]+)\3\s*)?(?:,\s*(?:v|version)\s*=\s*['"]?([\w.]+)['"]?\s*)?\)\s*(?:\}\})?\s*$/;

/** The parts of a `ref(...)`: its package (when named) and model, and a version. */
export function parseRef(text: string): { readonly package?: string; readonly model: string; readonly version?: string } | undefined {
  const m = REF.exec(text);
  if (!m) return undefined;
  const [first, second, version] = [m[2] as string, m[4], m[5]];
  return { ...(second ? { package: first } : {}), model: second ?? first, ...(version ? { version } : {}) };
}

const IDENTIFIER = /^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)?$/i;

/**
 * Where semantic models and time spines read their rows: a `ref(...)` of the authoring
 * form resolved against the project's models (schema: the model's configured `schema`,
 * else `STRATA_DBT_SCHEMA`; name: its `alias`, else its name), or the compiled
 * `node_relation` (`$source_schema` replaced by `STRATA_DBT_SCHEMA`).
 */
export class RelationResolver {
  constructor(
    readonly schema: string,
    private readonly project: DbtProjectFile | undefined,
    /** Records what was resolved by assumption (a model the project does not declare). */
    private readonly note: (at: YamlNode, code: string, message: string) => void,
  ) {}

  /** The relation of a semantic model (`model:` or `node_relation:`) or a time spine. */
  relationOf(node: YamlNode): string | undefined {
    const model = node.child('model');
    if (model.present) return this.ref(model);
    return this.nodeRelation(node.child('node_relation'));
  }

  /** `schema.table` of a `ref(...)`. */
  ref(node: YamlNode): string | undefined {
    const text = node.string(true);
    if (text === undefined) return undefined;
    const ref = parseRef(text);
    if (!ref) return node.problem('INVALID_REF', `cannot read '${text}'; write ref('model') or ref('package', 'model')`);
    return this.modelRelation(ref.model, node, ref.package, ref.version);
  }

  /** `schema.table` of a dbt model by name. */
  modelRelation(name: string, at: YamlNode, pkg?: string, version?: string): string | undefined {
    const own = !pkg || !this.project?.name || pkg === this.project.name;
    const model = own ? (this.project?.models.get(version ? `${name}_v${version}` : name) ?? this.project?.models.get(name)) : undefined;
    if (!model) {
      const reason = own ? `the project declares no model '${name}'` : `package '${pkg}' is not read`;
      this.note(at, 'ASSUMED_RELATION', `${reason}: ref is read as ${this.schema}.${name} (STRATA_DBT_SCHEMA and the model name)`);
    }
    const table = `${model?.config.schema ?? this.schema}.${model?.config.alias ?? (version ? `${name}_v${version}` : name)}`;
    if (!IDENTIFIER.test(table)) return at.problem('INVALID_SOURCE', `'${table}' is not schema.table`);
    return table;
  }

  /** `schema.table` of a compiled `node_relation`. */
  nodeRelation(node: YamlNode): string | undefined {
    const relationName = node.child('relation_name').string();
    const alias = node.child('alias').string();
    const schemaName = node.child('schema_name').string() ?? this.schema;
    const table = alias
      ? `${schemaName.replace('$source_schema', this.schema)}.${alias}`
      : relationName?.replace('$source_schema', this.schema).replaceAll('"', '').split('.').slice(-2).join('.');
    if (!table) return node.problem('MISSING_FIELD', "a semantic model needs `model: ref('...')` or a node_relation with alias and schema_name");
    if (!IDENTIFIER.test(table)) return node.problem('INVALID_SOURCE', `'${table}' is not schema.table`);
    return table;
  }
}
