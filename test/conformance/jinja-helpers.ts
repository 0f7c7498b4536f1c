import nunjucks from 'nunjucks';

const GRAINS = ['NANOSECOND', 'MICROSECOND', 'MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];
const DATE_PARTS: Readonly<Record<string, string>> = {
  YEAR: 'year',
  QUARTER: 'quarter',
  MONTH: 'month',
  DAY: 'day',
  DOW: 'isodow',
  DOY: 'doy',
  WEEK: 'week',
  HOUR: 'hour',
};

type Keywords = Record<string, unknown> & { __keywords?: true };

/** nunjucks passes Python-style keyword arguments as a trailing object marked `__keywords`. */
function args(list: unknown[], names: string[]): Record<string, unknown> {
  const last = list[list.length - 1] as Keywords | undefined;
  const keywords = last && typeof last === 'object' && last.__keywords ? (list.pop() as Keywords) : {};
  return Object.fromEntries(names.map((n, i) => [n, keywords[n] ?? list[i]]));
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
const castToTs = (text: unknown) => `CAST(${quote(String(text))} AS TIMESTAMP)`;

/**
 * The helpers MetricFlow's integration cases call in their Jinja (`check_query` and
 * `where_filter`), rendered for PostgreSQL: ISO weeks from Monday, ISO day of week.
 */
export function metricflowEnvironment(schema: string): { render(template: string): string } {
  const env = new nunjucks.Environment(undefined, { autoescape: false, throwOnUndefined: true });
  const globals: Record<string, unknown> = {
    source_schema: schema,
    mf_time_spine_source: `${schema}.mf_time_spine`,
    double_data_type_name: 'DOUBLE PRECISION',
    TimeGranularity: Object.fromEntries(GRAINS.map((g) => [g, g.toLowerCase()])),
    DatePart: Object.fromEntries(Object.keys(DATE_PARTS).map((p) => [p, p])),
    cast_to_ts: castToTs,
    generate_random_uuid: () => 'GEN_RANDOM_UUID()',
    render_date_trunc: (expr: string, grain: string) => `DATE_TRUNC('${grain}', ${expr})`,
    render_extract: (expr: string, part: string) => `EXTRACT(${DATE_PARTS[part] ?? part.toLowerCase()} FROM ${expr})`,
    render_date_sub: (alias: string, column: string, count: number, grain: string) => `(${alias}.${column} - INTERVAL '${count} ${grain}')`,
    render_date_add: (expr: string, count: string | number, grain: string) => `(${expr} + (${count}) * INTERVAL '1 ${grain}')`,
    render_percentile_expr: (expr: string, percentile: number, discrete: boolean) =>
      `PERCENTILE_${discrete ? 'DISC' : 'CONT'}(${percentile}) WITHIN GROUP (ORDER BY ${expr})`,
    render_time_constraint: (...list: unknown[]) => {
      const a = args(list, ['expr', 'start_time', 'stop_time']);
      const parts = [...(a.start_time ? [`${a.expr} >= ${castToTs(a.start_time)}`] : []), ...(a.stop_time ? [`${a.expr} <= ${castToTs(a.stop_time)}`] : [])];
      return parts.length > 0 ? parts.join(' AND ') : 'TRUE';
    },
    render_dimension_template: (...list: unknown[]) => {
      const a = args(list, ['name', 'entity_path']);
      return `{{ Dimension('${a.name}'${path(a.entity_path)}) }}`;
    },
    render_time_dimension_template: (...list: unknown[]) => {
      const a = args(list, ['name', 'time_granularity', 'entity_path']);
      return `{{ TimeDimension('${a.name}'${a.time_granularity ? `, '${a.time_granularity}'` : ''}${path(a.entity_path)}) }}`;
    },
    render_entity_template: (...list: unknown[]) => {
      const a = args(list, ['name', 'entity_path']);
      return `{{ Entity('${a.name}'${path(a.entity_path)}) }}`;
    },
    render_metric_template: (...list: unknown[]) => {
      const a = args(list, ['name', 'group_by']);
      return `{{ Metric('${a.name}', group_by=[${((a.group_by as string[]) ?? []).map((g) => `'${g}'`).join(', ')}]) }}`;
    },
  };
  for (const [name, value] of Object.entries(globals)) env.addGlobal(name, value);
  return { render: (template) => env.renderString(template, {}) };
}

function path(entityPath: unknown): string {
  return Array.isArray(entityPath) && entityPath.length > 0 ? `, entity_path=[${entityPath.map((e) => `'${e}'`).join(', ')}]` : '';
}
