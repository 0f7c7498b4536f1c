import type { SavedQuery, TimeSpine } from '../catalog/types.ts';
import { filterOf } from './import-metric.ts';
import { grainOf, relationTable } from './import-semantic-model.ts';
import type { YamlNode } from './yaml-node.ts';

/**
 * The time spines of `project_configuration`: each with its table, primary column, grain
 * and custom granularities (`alien_day`), plus legacy `time_spine_table_configurations`.
 *
 * ```ts
 * const spines = importTimeSpines(configNode, 'analytics');
 * ```
 */
export function importTimeSpines(node: YamlNode, schema: string): TimeSpine[] {
  const spines: TimeSpine[] = node
    .child('time_spines')
    .list()
    .flatMap((s) => {
      const table = relationTable(s.child('node_relation'), schema);
      const column = s.child('primary_column').child('name').string(true);
      const grainText = s.child('primary_column').child('time_granularity').string(true);
      const grain = grainOf(grainText);
      if (!table || !column || !grain) return grainText && !grain ? (s.problem('INVALID_GRAIN', `unknown time_granularity '${grainText}'`) ?? []) : [];
      if (/^(nanosecond|microsecond)$/i.test(grainText ?? '')) return [];
      const customGranularities = s
        .child('custom_granularities')
        .list()
        .flatMap((c) => {
          const name = c.child('name').string(true);
          return name ? [{ name, column: c.child('column_name').string() ?? name }] : [];
        });
      return [{ table, column, grain, customGranularities }];
    });
  for (const legacy of node.child('time_spine_table_configurations').list()) {
    const location = legacy.child('location').string(true)?.replace('$source_schema', schema);
    const column = legacy.child('column_name').string(true);
    const grain = grainOf(legacy.child('grain').string() ?? 'day');
    if (!location || !column || !grain || spines.some((s) => s.table === location)) continue;
    spines.push({ table: location, column, grain, customGranularities: [] });
  }
  return spines;
}

const TEMPLATE = /^\s*(Dimension|TimeDimension|Entity|Metric)\(\s*'([^']+)'(?:\s*,\s*'([^']+)')?\s*\)((?:\.\w+\([^)]*\))*)\s*$/;

function groupByItem(node: YamlNode): SavedQuery['groupBy'][number] | undefined {
  const text = node.string(true) ?? '';
  const m = TEMPLATE.exec(text);
  if (!m || m[1] === 'Metric')
    return node.problem('INVALID_GROUP_BY', `cannot read group-by '${text}'; use Dimension('...'), TimeDimension('...', 'grain') or Entity('...')`);
  const grainText = m[3] ?? /\.grain\('([^']+)'\)/.exec(m[4] ?? '')?.[1];
  const datePart = /\.date_part\('([^']+)'\)/.exec(m[4] ?? '')?.[1];
  const grain = grainOf(grainText);
  const name = grainText && !grain ? `${m[2]}__${grainText}` : (m[2] as string);
  return { dimension: name, ...(grain ? { grain } : {}), ...(datePart ? { datePart: datePart.toUpperCase() } : {}) };
}

function orderItem(node: YamlNode): SavedQuery['orderBy'][number] | undefined {
  const text = node.string(true) ?? '';
  const m = TEMPLATE.exec(text);
  if (!m) return node.problem('INVALID_ORDER_BY', `cannot read order-by '${text}'`);
  const grainText = m[3] ?? /\.grain\('([^']+)'\)/.exec(m[4] ?? '')?.[1];
  const descending = /\.descending\(\s*True\s*\)/i.test(m[4] ?? '');
  return { field: grainText ? `${m[2]}__${grainText.toLowerCase()}` : (m[2] as string), direction: descending ? 'DESC' : 'ASC' };
}

/** A saved query: its metrics, group-bys, filters (ANDed), order and limit. */
export function importSavedQuery(node: YamlNode): SavedQuery | undefined {
  const name = node.child('name').string(true);
  if (!name) return undefined;
  const params = node.child('query_params');
  const where = filterOf(params.child('where'));
  const limit = params.child('limit').number();
  return {
    name,
    description: node.child('description').string()?.trim() ?? name,
    metrics: params
      .child('metrics')
      .list()
      .flatMap((m) => m.string() ?? []),
    groupBy: params
      .child('group_by')
      .list()
      .flatMap((g) => groupByItem(g) ?? []),
    ...(where ? { where } : {}),
    orderBy: params
      .child('order_by')
      .list()
      .flatMap((o) => orderItem(o) ?? []),
    ...(limit !== undefined ? { limit } : {}),
  };
}
