/** The extended query protocol of a session: Parse, Bind, Describe, Execute and Close over prepared statements and portals. */
import { SqlInterfaceError } from '../../modeling/sql-interface/sql-error.ts';
import { describeCatalog, runCatalog } from './catalog-statement.ts';
import { metricColumns, runMetric } from './metric-statement.ts';
import { formatAt, rowDescriptionOf, showDescription } from './result-description.ts';
import { runSession, type Answer, type Portal, type SessionContext } from './session-context.ts';
import { parseSql } from './sql-catalog.ts';
import { parameterText } from './sql-values.ts';
import * as wire from './wire.ts';

export async function parse(ctx: SessionContext, reader: wire.MessageReader): Promise<void> {
  const name = reader.cstring();
  const text = reader.cstring();
  const count = reader.int16();
  const paramTypes = Array.from({ length: count }, () => reader.int32());
  const parsed = await parseSql(ctx.services.semantic, text);
  if (parsed.length > 1) throw new SqlInterfaceError('42601', 'cannot insert multiple commands into a prepared statement');
  const statement = parsed[0];
  const used = statement?.kind === 'metric' ? highestParameter(statement.select) : 0;
  const types = [...paramTypes, ...Array<number>(Math.max(0, used - paramTypes.length)).fill(0)];
  ctx.statements.set(name, { text, statement, paramTypes: types });
  ctx.connection.send(wire.parseComplete());
}

export function bind(ctx: SessionContext, reader: wire.MessageReader): void {
  const portalName = reader.cstring();
  const statementName = reader.cstring();
  const prepared = ctx.statements.get(statementName);
  if (!prepared) throw new SqlInterfaceError('26000', `prepared statement "${statementName}" does not exist`);
  const formatCount = reader.int16();
  const paramFormats = Array.from({ length: formatCount }, () => reader.int16());
  const valueCount = reader.int16();
  const values = Array.from({ length: valueCount }, () => {
    const length = reader.int32();
    return length < 0 ? null : Buffer.from(reader.bytes(length));
  });
  const resultCount = reader.int16();
  const resultFormats = Array.from({ length: resultCount }, () => reader.int16());
  ctx.portals.set(portalName, { prepared, paramFormats, values, resultFormats, sent: 0 });
  ctx.connection.send(wire.bindComplete());
}

export async function describe(ctx: SessionContext, reader: wire.MessageReader): Promise<void> {
  const { send } = ctx.connection;
  const what = reader.bytes(1).toString('latin1');
  const name = reader.cstring();
  if (what === 'P') {
    const portal = ctx.portals.get(name);
    if (!portal) throw new SqlInterfaceError('34000', `portal "${name}" does not exist`);
    const statement = portal.prepared.statement;
    if (statement?.kind === 'metric') return send(rowDescriptionOf(await metricColumns(ctx, statement.select, parametersOf(portal)), portal.resultFormats));
    const answer = await answerOf(ctx, portal);
    return send(answer.description ?? wire.noData());
  }
  const prepared = ctx.statements.get(name);
  if (!prepared) throw new SqlInterfaceError('26000', `prepared statement "${name}" does not exist`);
  const statement = prepared.statement;
  if (statement?.kind === 'catalog') return describeCatalog(ctx, statement.text, prepared.paramTypes);
  send(wire.parameterDescription(prepared.paramTypes.map((oid) => (oid === 0 ? 25 : oid))));
  if (statement?.kind === 'session' && statement.show) return send(showDescription(statement.show));
  if (statement?.kind !== 'metric') return send(wire.noData());
  const placeholders = prepared.paramTypes.map(() => '0');
  send(rowDescriptionOf(await metricColumns(ctx, statement.select, placeholders), []));
}

export async function execute(ctx: SessionContext, reader: wire.MessageReader): Promise<void> {
  const { send } = ctx.connection;
  const name = reader.cstring();
  const maxRows = reader.int32();
  const portal = ctx.portals.get(name);
  if (!portal) throw new SqlInterfaceError('34000', `portal "${name}" does not exist`);
  const answer = await answerOf(ctx, portal);
  if (answer.empty) return send(wire.emptyQueryResponse());
  const end = maxRows > 0 ? Math.min(answer.rows.length, portal.sent + maxRows) : answer.rows.length;
  for (let i = portal.sent; i < end; i++) send(answer.rows[i] as Buffer);
  portal.sent = end;
  if (end < answer.rows.length) return send(wire.portalSuspended());
  send(wire.commandComplete(answer.tag));
}

export function close(ctx: SessionContext, reader: wire.MessageReader): void {
  const what = reader.bytes(1).toString('latin1');
  const name = reader.cstring();
  if (what === 'S') ctx.statements.delete(name);
  else ctx.portals.delete(name);
  ctx.connection.send(wire.closeComplete());
}

/** Runs a portal once; its answer is kept for Execute (and for rows past a row limit). */
async function answerOf(ctx: SessionContext, portal: Portal): Promise<Answer> {
  if (portal.answer) return portal.answer;
  const { statement, paramTypes } = portal.prepared;
  let answer: Answer;
  if (!statement) answer = { description: undefined, rows: [], tag: '', empty: true };
  else if (statement.kind === 'session') answer = runSession(ctx, statement);
  else if (statement.kind === 'catalog') answer = await runCatalog(ctx, statement.text, { paramTypes, ...portal });
  else answer = await runMetric(ctx, statement.select, parametersOf(portal), portal.resultFormats, true);
  portal.answer = answer;
  return answer;
}

/** A portal's parameter values as text, read by their format and type. */
function parametersOf(portal: Portal): (string | null)[] {
  return portal.values.map((v, i) => parameterText(v, formatAt(portal.paramFormats, i), portal.prepared.paramTypes[i] ?? 0));
}

/** The highest `$n` a statement uses. */
function highestParameter(node: unknown): number {
  let highest = 0;
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (key === 'ParamRef') highest = Math.max(highest, (child as { number?: number }).number ?? 0);
      else visit(child);
    }
  };
  visit(node);
  return highest;
}
