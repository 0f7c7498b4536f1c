/** A SELECT over a semantic table run as a metric query, with the caller's access and rate limit, and cancellable. */
import { translateSelect, type OutputColumn, type SqlParameters } from '../../modeling/sql-interface/translate-select.ts';
import { SqlInterfaceError } from '../../modeling/sql-interface/sql-error.ts';
import { createCancelScope } from '../../store/cancel-scope.ts';
import { formatAt, rowDescriptionOf } from './result-description.ts';
import { admit, audit, type Answer, type SessionContext } from './session-context.ts';
import { sqlCatalog } from './sql-catalog.ts';
import { encodeValue } from './sql-values.ts';
import * as wire from './wire.ts';

/** Runs a metric statement: translation, the caller's rate limit, the semantic layer. */
export async function runMetric(
  ctx: SessionContext,
  select: unknown,
  parameters: SqlParameters,
  resultFormats: readonly number[],
  describe: boolean,
): Promise<Answer> {
  const { services } = ctx;
  const startedAt = performance.now();
  const layer = await services.semantic();
  const translated = translateSelect(select, sqlCatalog(layer).tables, parameters);
  const description = describe ? rowDescriptionOf(translated.columns, resultFormats) : undefined;
  if (translated.empty) return { description, rows: [], tag: 'SELECT 0' };
  let outcome: string | undefined;
  const scope = createCancelScope();
  let abandon!: (error: Error) => void;
  const abandoned = new Promise<never>((_resolve, reject) => (abandon = reject));
  ctx.running = { scope, abandon };
  try {
    admit(ctx, 'analytics');
    const work = services.analytics.run((db) => scope.run(() => layer.query(db, translated.query, ctx.access)));
    let result: Awaited<typeof work>;
    try {
      result = await Promise.race([work, abandoned]);
    } catch (error) {
      throw canceledOrTimedOut(error, scope.cancelled);
    }
    if (scope.cancelled) throw new SqlInterfaceError('57014', 'canceling statement due to user request');
    const rows = result.rows.map((row) =>
      wire.dataRow(translated.columns.map((c, i) => encodeValue(valueOf(row, c, result.columns), c.type, formatAt(resultFormats, i)))),
    );
    outcome = `${rows.length} rows`;
    audit(
      ctx,
      { kind: 'metric', table: translated.table, metrics: translated.query.metrics, rows: rows.length, suppressedRows: result.suppressedRows.length },
      startedAt,
    );
    return { description, rows, tag: `SELECT ${rows.length}` };
  } finally {
    ctx.running = undefined;
    if (outcome === undefined)
      audit(
        ctx,
        { kind: 'metric', table: translated.table, metrics: translated.query.metrics, failed: true, ...(scope.cancelled ? { cancelled: true } : {}) },
        startedAt,
      );
  }
}

/** The columns a metric statement answers with, translated without running it. */
export async function metricColumns(ctx: SessionContext, select: unknown, parameters: SqlParameters): Promise<readonly OutputColumn[]> {
  return translateSelect(select, sqlCatalog(await ctx.services.semantic()).tables, parameters).columns;
}

/**
 * A metric statement's failure as the client sees it: PostgreSQL's query_canceled (57014)
 * says whether the client's cancel request or the statement time limit cut it off.
 */
function canceledOrTimedOut(error: unknown, cancelled: boolean): unknown {
  if ((error as { code?: unknown } | null)?.code !== '57014' || error instanceof SqlInterfaceError) return error;
  return new SqlInterfaceError(
    '57014',
    cancelled ? 'canceling statement due to user request' : 'canceling statement due to statement timeout (STRATA_STATEMENT_TIMEOUT_MS)',
  );
}

/** A column's value in a metric result row: the metric's column, or the group-by's by position. */
function valueOf(row: Readonly<Record<string, unknown>>, column: OutputColumn, columns: readonly { readonly name: string }[]): unknown {
  if (column.source.kind === 'metric') return row[column.source.metric];
  const name = columns[column.source.index]?.name;
  return name === undefined ? null : row[name];
}
