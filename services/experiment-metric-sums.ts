import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SemanticLayer } from '../modeling/semantic-layer.ts';
import type { Metric } from '../modeling/catalog/types.ts';
import { planStatement } from '../modeling/sql/render-plan.ts';
import { StrataError } from '../modeling/errors.ts';
import { quoteInput } from '../modeling/quote-input.ts';
import { type ExperimentSums, type ExposureSpan, exposureDays, exposuresSql, type SumsPart, type SumsRow, toSums, totalsSql } from './experiment-exposures.ts';

/** How a metric is read per customer: a SIMPLE metric's value, or a RATIO's numerator and denominator. */
export type MetricShape = { kind: 'simple'; metric: string } | { kind: 'ratio'; numerator: string; denominator: string };

const ADDITIVE = ['sum', 'count', 'sum_boolean'];

/** Refuses a metric whose per-customer value does not add up over days (with a coded error). */
function checkAdditive(layer: SemanticLayer, definition: Metric, asPartOf?: string): void {
  const what = asPartOf ? `metric ${quoteInput(definition.name)} (in ${quoteInput(asPartOf)})` : `metric ${quoteInput(definition.name)}`;
  if (definition.type !== 'SIMPLE' || definition.joinToTimeSpine)
    throw new StrataError(
      'INVALID_QUERY',
      `${what} is ${definition.type}: experiments read SIMPLE metrics (or RATIOs of them) that add up per customer over days`,
    );
  const { measure } = layer.index.measure(definition.measure);
  if (!ADDITIVE.includes(measure.aggregation) || measure.nonAdditive)
    throw new StrataError(
      'INVALID_QUERY',
      `${what} aggregates with ${measure.aggregation}${measure.nonAdditive ? ' (semi-additive)' : ''}: per-customer values need sum or count`,
    );
}

/**
 * The shape of a goal or guardrail metric: SIMPLE over a `sum`, `count` or `sum_boolean`
 * measure (not semi-additive, no time spine; its filter applies), or a RATIO of two such
 * metrics without input filters or offsets. Anything else is refused with a coded error.
 */
export function metricShape(layer: SemanticLayer, metric: string): MetricShape {
  const definition = layer.index.metrics.get(metric);
  if (!definition) throw new StrataError('UNKNOWN_MEMBER', `unknown metric ${quoteInput(metric)}`);
  if (definition.type === 'RATIO') {
    const parts = [definition.numerator, definition.denominator];
    if (definition.filter || parts.some((p) => p.filter || p.offsetWindow || p.offsetToGrain))
      throw new StrataError('INVALID_QUERY', `metric ${quoteInput(metric)}: a RATIO read per customer takes its inputs without filters or offsets`);
    for (const part of parts) {
      const input = layer.index.metrics.get(part.metric);
      if (!input) throw new StrataError('UNKNOWN_MEMBER', `unknown metric ${quoteInput(part.metric)}`);
      checkAdditive(layer, input, metric);
    }
    return { kind: 'ratio', numerator: definition.numerator.metric, denominator: definition.denominator.metric };
  }
  checkAdditive(layer, definition);
  return { kind: 'simple', metric };
}

function subjectKey(layer: SemanticLayer, subject: string): string {
  const model = layer.index.models.get(subject);
  if (model?.primaryKey.length !== 1) throw new Error(`the subject model '${subject}' needs a one-column primary key`);
  return model.primaryKey[0] as string;
}

/** The reporting time zone of a SIMPLE metric's days (its measure's model). */
function timeZoneOf(layer: SemanticLayer, metric: string): string {
  const definition = layer.index.metrics.get(metric);
  if (definition?.type !== 'SIMPLE') throw new Error(`plan invariant: '${metric}' is not SIMPLE`);
  return layer.index.measure(definition.measure).model.timeZone;
}

/**
 * A SIMPLE metric per customer and reporting-zone day, as a subquery compiled by the semantic
 * layer. With `trusted` (the database guarantees the metric's rows each join one subject row)
 * the customer is read from the metric's own joining column and the subject table is not
 * joined: the same values (a row can reach no other customer, and none is left unmatched),
 * without a join of every row of the window to the customer table.
 */
function perCustomerDaily(layer: SemanticLayer, metric: string, subject: string, days: { from: string; to: string }, trusted: boolean): RawBuilder<unknown> {
  const compiled = layer.plan({
    metrics: [metric],
    groupBy: [{ dimension: `${subject}.${subjectKey(layer, subject)}` }, { dimension: 'metric_time', grain: 'DAY' }],
    timeRange: days,
    ...(trusted ? { trustedJoins: [subject] } : {}),
  });
  return planStatement(layer.index, compiled.plan, layer.dialect);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Whether every row of a SIMPLE metric's model joins exactly one subject row, as the database
 * guarantees it: the model's many-to-one join to the subject is on one plain column, with a
 * validated foreign key from that column to the subject table's key (`wealth.transactions`
 * to `wealth.customers`; not the events, whose customers may be unknown). A NULL joining
 * column matches no customer either way. Read from the catalog tables (a few index probes).
 */
async function joinsSubjectSurely(db: Kysely<any>, layer: SemanticLayer, metric: string, subject: string): Promise<boolean> {
  const definition = layer.index.metrics.get(metric);
  if (definition?.type !== 'SIMPLE') return false;
  const { model } = layer.index.measure(definition.measure);
  const target = layer.index.models.get(subject);
  const join = model.joins.find((j) => j.model === subject && j.cardinality === 'many_to_one');
  if (!target || !join || join.on.length !== 1 || target.validity !== undefined || !('table' in model.source) || !('table' in target.source)) return false;
  const [column, key] = join.on[0] as readonly [string, string];
  if (!IDENTIFIER.test(column) || !IDENTIFIER.test(key) || target.primaryKey.length !== 1 || target.primaryKey[0] !== key) return false;
  const { rows } = await sql<{ sure: boolean }>`SELECT EXISTS (
      SELECT 1 FROM pg_catalog.pg_constraint c
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      JOIN pg_catalog.pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = c.confkey[1]
      WHERE c.contype = 'f' AND c.convalidated AND cardinality(c.conkey) = 1
        AND c.conrelid = to_regclass(${model.source.table}) AND c.confrelid = to_regclass(${target.source.table})
        AND a.attname = ${column} AND b.attname = ${key}) AS sure`.execute(db);
  return rows[0]?.sure === true;
}

/**
 * Per variant, sums of each exposed customer's metric values over the reporting-zone days
 * `[first exposure day, + windowDays)`: for a SIMPLE metric its value Y and, over as many
 * days before, X (CUPED's pre-exposure value); for a RATIO its numerator (as Y) and
 * denominator (as X) in the window. Only customers with data are joined and aggregated;
 * the others count as 0 and add to the counts alone. The part of a results statement
 * (`sums_<part>` over `exposed`), read within the exposures' `span`.
 */
export async function metricPart(
  db: Kysely<any>,
  layer: SemanticLayer,
  subject: string,
  part: number,
  metric: string,
  windowDays: number,
  span: ExposureSpan,
): Promise<SumsPart> {
  const shape = metricShape(layer, metric);
  const first = shape.kind === 'simple' ? shape.metric : shape.numerator;
  const timeZone = timeZoneOf(layer, first);
  const days = await exposureDays(db, span, windowDays, timeZone);
  const name = (base: string) => sql.id(`${base}_${part}`);
  const daily = async (m: string) => perCustomerDaily(layer, m, subject, days, await joinsSubjectSurely(db, layer, m, subject));
  const idRef = (cte: string) => sql.ref(`${cte}.${subject}__${subjectKey(layer, subject)}`);
  const valueOf = (cte: string, column: string) => sql`CAST(${sql.ref(`${cte}.${column}`)} AS float8)`;
  const inWindow = (cte: string) => sql`${idRef(cte)} = x.customer_id AND ${sql.ref(`${cte}.metric_time__day`)} >= x.d0 - ${windowDays}::int
    AND ${sql.ref(`${cte}.metric_time__day`)} < x.d0 + ${windowDays}::int`;
  const after = (cte: string) => sql`${sql.ref(`${cte}.metric_time__day`)} >= x.d0`;
  const exposedDays = sql`(SELECT e.*, CAST(e.first_at AT TIME ZONE ${timeZone} AS date) AS d0 FROM exposed e) x`;
  let vals: RawBuilder<unknown>;
  if (shape.kind === 'simple') {
    const m = `m_${part}`;
    vals = sql`${sql.id(m)} AS (${await daily(shape.metric)}),
    ${name('vals')} AS (
      SELECT x.variant, COALESCE(SUM(${valueOf(m, shape.metric)}) FILTER (WHERE ${after(m)}), 0) AS y,
        COALESCE(SUM(${valueOf(m, shape.metric)}) FILTER (WHERE NOT ${after(m)}), 0) AS x
      FROM ${exposedDays} JOIN ${sql.id(m)} ON ${inWindow(m)}
      GROUP BY x.variant, x.customer_id
    )`;
  } else {
    const [mn, md] = [`mn_${part}`, `md_${part}`];
    const side = (cte: string, column: string) => sql`SELECT x.variant, x.customer_id, SUM(${valueOf(cte, column)}) AS v
      FROM ${exposedDays} JOIN ${sql.id(cte)} ON ${inWindow(cte)} AND ${after(cte)} GROUP BY x.variant, x.customer_id`;
    vals = sql`${sql.id(mn)} AS (${await daily(shape.numerator)}),
    ${sql.id(md)} AS (${await daily(shape.denominator)}),
    ${name('vals')} AS (
      SELECT COALESCE(n.variant, d.variant) AS variant, COALESCE(n.v, 0) AS y, COALESCE(d.v, 0) AS x
      FROM (${side(mn, shape.numerator)}) n FULL JOIN (${side(md, shape.denominator)}) d ON d.customer_id = n.customer_id
    )`;
  }
  return {
    ctes: sql`${vals}, ${name('sums')} AS (
      SELECT variant, SUM(y) AS sum_y, SUM(y * y) AS sum_y2, SUM(x) AS sum_x, SUM(x * x) AS sum_x2, SUM(x * y) AS sum_xy, COUNT(*) FILTER (WHERE y > 0) AS positive
      FROM ${name('vals')} GROUP BY variant
    )`,
  };
}

/**
 * The sums of every part (goal first, then the guardrails) in one statement over the
 * experiment's rows of `strata.experiment_exposures` (one per exposed customer).
 */
export async function readParts(db: Kysely<any>, key: string, parts: readonly SumsPart[]): Promise<ExperimentSums[]> {
  const selects = parts.map(
    (_, i) => sql`SELECT ${sql.lit(i)} AS part, t.variant, t.n, COALESCE(s.sum_y, 0) AS sum_y, COALESCE(s.sum_y2, 0) AS sum_y2, COALESCE(s.sum_x, 0) AS sum_x,
      COALESCE(s.sum_x2, 0) AS sum_x2, COALESCE(s.sum_xy, 0) AS sum_xy, COALESCE(s.positive, 0) AS positive
    FROM totals t LEFT JOIN ${sql.id(`sums_${i}`)} s ON s.variant = t.variant`,
  );
  const { rows } = await sql<SumsRow & { part: number }>`
    WITH ${exposuresSql(key)}, ${totalsSql(key)}, ${sql.join(parts.map((p) => p.ctes))}
    ${sql.join(selects, sql` UNION ALL `)}`.execute(db);
  return parts.map((_, i) => toSums(rows.filter((r) => Number(r.part) === i)));
}
