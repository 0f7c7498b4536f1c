import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One of MetricFlow's integration cases, as its YAML gives it. */
export interface MetricflowCase {
  readonly file: string;
  readonly name: string;
  readonly metrics?: string[];
  readonly group_bys?: string[];
  readonly group_by_objs?: { name: string; grain?: string; date_part?: string }[];
  readonly where_filter?: string;
  readonly time_constraint?: [string, string];
  readonly order_bys?: string[];
  readonly limit?: number;
  readonly check_order?: boolean;
  readonly saved_query_name?: string;
  readonly min_max_only?: boolean;
  readonly apply_group_by?: boolean;
  readonly required_features?: string[];
  readonly check_query: string;
}

/** Every case of every file in `dir`, in file order. */
export function readCases(dir: string): MetricflowCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((d) => (d.toJS() as { integration_test?: Omit<MetricflowCase, 'file'> } | null)?.integration_test)
        .filter((c): c is Omit<MetricflowCase, 'file'> => c !== undefined && c !== null)
        .map((c) => ({ ...c, file })),
    );
}

/** MetricFlow's inclusive `[start, end]` as Strata's half-open range: the end moves past its last instant. */
export function halfOpen([start, end]: [string, string]): { from: string; to: string } {
  if (/^\d{4}-\d{2}-\d{2}$/.test(end)) {
    const d = new Date(`${end}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1);
    return { from: start, to: d.toISOString().slice(0, 10) };
  }
  const t = new Date(`${end.replace(' ', 'T')}Z`);
  t.setUTCSeconds(t.getUTCSeconds() + 1);
  return { from: start, to: t.toISOString().slice(0, 19).replace('T', ' ') };
}

/** The case's query as `MetricQueryInput` variables of the GraphQL API. */
export function caseQuery(c: MetricflowCase, renderFilter: (text: string) => string): Record<string, unknown> {
  const groupBy = [
    ...(c.group_bys ?? []).map((name) => ({ dimension: name })),
    ...(c.group_by_objs ?? []).map((g) => ({
      dimension: g.name,
      ...(g.grain ? { grain: g.grain.toUpperCase() } : {}),
      ...(g.date_part ? { datePart: g.date_part.toUpperCase() } : {}),
    })),
  ];
  return {
    metrics: c.metrics ?? [],
    ...(groupBy.length ? { groupBy } : {}),
    ...(c.where_filter ? { filter: renderFilter(c.where_filter).trim() } : {}),
    ...(c.time_constraint ? { timeRange: halfOpen(c.time_constraint) } : {}),
    ...(c.order_bys?.length
      ? { orderBy: c.order_bys.map((o) => (o.startsWith('-') ? { field: o.slice(1), direction: 'DESC' } : { field: o, direction: 'ASC' })) }
      : {}),
    ...(c.limit !== undefined ? { limit: c.limit } : {}),
    ...(c.saved_query_name ? { savedQuery: c.saved_query_name } : {}),
  };
}
