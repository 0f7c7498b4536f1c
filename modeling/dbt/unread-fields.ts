import type { YamlNode } from './yaml-node.ts';

/** Fields every definition may carry: read (`name`, descriptions, `config`, `meta`) or bookkeeping of the compiled manifest. */
const COMMON = ['name', 'description', 'label', 'config', 'meta', 'metadata'];

/** The fields Strata reads, per kind of definition and member; anything else dbt accepts is listed as not read. */
const READ: Readonly<Record<string, readonly string[]>> = {
  semantic_model: [...COMMON, 'model', 'node_relation', 'defaults', 'entities', 'measures', 'dimensions', 'primary_entity', 'group'],
  metric: [...COMMON, 'type', 'type_params', 'filter', 'time_granularity', 'group'],
  saved_query: [...COMMON, 'query_params', 'exports', 'group'],
  entity: [...COMMON, 'type', 'expr'],
  dimension: [...COMMON, 'type', 'type_params', 'expr', 'is_partition'],
  measure: [...COMMON, 'agg', 'expr', 'agg_params', 'agg_time_dimension', 'non_additive_dimension', 'create_metric'],
};

/** Why a field dbt accepts is not read, when there is more to say than "not read". */
const REASONS: Readonly<Record<string, string>> = {
  role: 'entity roles are not read: an entity joins by its name',
  tags: 'dbt tags select nodes for dbt commands; they are not part of a query',
  docs: 'documentation settings are for dbt docs',
};

/**
 * Lists, as notes for `dbt check`, the fields of a definition (and of its entities,
 * dimensions and measures) that Strata does not read, so that nothing dbt accepts is
 * dropped silently.
 */
export function reportUnread(node: YamlNode, kind: string, note: (at: YamlNode, code: string, message: string) => void): void {
  check(node, kind, note);
  if (kind !== 'semantic_model') return;
  for (const [list, member] of [
    ['entities', 'entity'],
    ['dimensions', 'dimension'],
    ['measures', 'measure'],
  ] as const) {
    if (Array.isArray(node.child(list).value)) for (const item of node.child(list).list()) check(item, member, note);
  }
}

function check(node: YamlNode, kind: string, note: (at: YamlNode, code: string, message: string) => void): void {
  const value = node.value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return;
  const read = READ[kind] ?? [];
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    if (read.includes(key) || field === null || field === undefined || (Array.isArray(field) && field.length === 0)) continue;
    note(node.child(key), 'NOT_READ', REASONS[key] ?? `${kind.replace('_', ' ')} field '${key}' is not read`);
  }
}
