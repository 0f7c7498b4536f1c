import type { SavedQuery, TimeSpine } from '../catalog/types.ts';
import { filterOf } from './import-metric.ts';
import { describe, grainOf } from './import-semantic-model.ts';
import type { RelationResolver } from './relations.ts';
import type { DbtModel } from './dbt-project.ts';
import type { YamlNode } from './yaml-node.ts';

/**
 * The time spines of `project_configuration`: each with its table, primary column, grain
 * and custom granularities (`alien_day`), plus legacy `time_spine_table_configurations`.
 *
 * ```ts
 * const spines = importTimeSpines(configNode, relations);
 * ```
 */
export function importTimeSpines(node: YamlNode, relations: RelationResolver): TimeSpine[] {
  const schema = relations.schema;
  const spines: TimeSpine[] = node
    .child('time_spines')
    .list()
    .flatMap((s) => {
      const table = relations.relationOf(s);
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

/**
 * The time spines dbt 1.9 declares on models (`time_spine:` with `standard_granularity_column`
 * and `custom_granularities`, the column's `granularity` among the model's `columns`), and
 * the legacy `metricflow_time_spine` model (a `date_day` column at day grain) when no spine
 * of day grain is declared otherwise.
 */
export function modelTimeSpines(models: Iterable<DbtModel>, relations: RelationResolver, node: (value: unknown, at: string) => YamlNode): TimeSpine[] {
  const spines: TimeSpine[] = [];
  let legacy: DbtModel | undefined;
  for (const model of models) {
    if (model.config.enabled === false) continue;
    if (model.name === 'metricflow_time_spine' && !model.timeSpine) legacy = model;
    if (!model.timeSpine) continue;
    const spine = node(model.timeSpine.value, model.timeSpine.at);
    const column = spine.child('standard_granularity_column').string(true);
    if (!column) continue;
    const declared = model.columns.find((c) => c.name === column);
    if (!declared) {
      spine.child('standard_granularity_column').problem('UNKNOWN_COLUMN', `column '${column}' is not among the columns of model '${model.name}'`);
      continue;
    }
    const grain = grainOf(declared.granularity);
    if (!grain) {
      spine
        .child('standard_granularity_column')
        .problem('INVALID_GRAIN', `column '${column}' of model '${model.name}' needs a granularity (day, hour, ...), found '${declared.granularity ?? ''}'`);
      continue;
    }
    const table = relations.modelRelation(model.name, spine);
    if (!table) continue;
    const customGranularities = spine
      .child('custom_granularities')
      .list()
      .flatMap((c) => {
        const name = c.child('name').string(true);
        return name ? [{ name, column: c.child('column_name').string() ?? name }] : [];
      });
    spines.push({ table, column, grain, customGranularities });
  }
  if (legacy && !spines.some((s) => s.grain === 'DAY')) {
    const table = relations.modelRelation(legacy.name, node(legacy.name, legacy.at));
    if (table) spines.push({ table, column: 'date_day', grain: 'DAY', customGranularities: [] });
  }
  return spines;
}

/** A saved query: its metrics, group-bys, filters (ANDed), order and limit. */
export function importSavedQuery(node: YamlNode, note: (at: YamlNode, code: string, message: string) => void): SavedQuery | undefined {
  const name = node.child('name').string(true);
  if (!name) return undefined;
  const params = node.child('query_params');
  const where = filterOf(params.child('where'));
  const limit = params.child('limit').number();
  for (const exported of node.child('exports').list())
    note(
      exported,
      'EXPORT_NOT_RUN',
      `export '${exported.child('name').string() ?? '?'}' (${exported.child('config').child('export_as').string() ?? 'table'}) is written by dbt's scheduler, not by Strata; the saved query itself is served`,
    );
  return {
    name,
    description: describe(node, name),
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
