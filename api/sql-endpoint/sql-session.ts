import type { Logger } from 'pino';
import type { SemanticLayer } from '../../modeling/semantic-layer.ts';
import type { Principal } from '../../services/authorization.ts';
import type { AnalyticsLane } from '../../services/analytics-lane.ts';
import { queryAccess } from '../../services/access.ts';
import { isStrataError, type ErrorCode } from '../../modeling/errors.ts';
import { parseStatements, type SqlStatement } from '../../modeling/sql-interface/statements.ts';
import { translateSelect, type OutputColumn, type SqlParameters, type TranslatedSelect } from '../../modeling/sql-interface/translate-select.ts';
import { semanticTables, type SqlTable } from '../../modeling/sql-interface/semantic-tables.ts';
import { catalogDdl } from '../../modeling/sql-interface/catalog-ddl.ts';
import { SqlInterfaceError } from '../../modeling/sql-interface/sql-error.ts';
import type { CatalogMirror } from './catalog-mirror.ts';
import type { SqlServerIdentity } from './server-identity.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import { callerKey, rateLimited } from '../request-limits.ts';
import { encodeValue, parameterText, TYPE_INFO } from './sql-values.ts';
import * as wire from './wire.ts';
import { createCancelScope, type CancelScope } from '../../store/cancel-scope.ts';

/** What every SQL session of a server shares. */
export interface SqlServices {
  readonly semantic: () => Promise<SemanticLayer>;
  readonly analytics: AnalyticsLane;
  readonly limiter: RateLimiter | undefined;
  readonly privacyK: number;
  /** The model whose rows are people (small cells count its keys; scopes are read from it). */
  readonly subject: string;
  readonly mirror: CatalogMirror;
  readonly identity: SqlServerIdentity;
  readonly logger: Logger;
}

/** The semantic tables and the mirror's DDL of one semantic layer (a new layer when tags are published). */
interface SqlCatalog {
  readonly tables: ReadonlyMap<string, SqlTable>;
  readonly ddl: string;
}

const catalogs = new WeakMap<SemanticLayer, SqlCatalog>();

/** The SQL tables of a semantic layer, built once per layer. */
export function sqlCatalog(layer: SemanticLayer): SqlCatalog {
  let catalog = catalogs.get(layer);
  if (!catalog) {
    const tables = semanticTables(layer.index);
    catalog = { tables, ddl: catalogDdl(tables.values()) };
    catalogs.set(layer, catalog);
  }
  return catalog;
}

interface Prepared {
  readonly text: string;
  readonly statement: SqlStatement | undefined;
  readonly paramTypes: readonly number[];
}

/** A statement's answer: its fields (none for commands), encoded rows, and command tag. */
interface Answer {
  readonly description: Buffer | undefined;
  readonly rows: readonly Buffer[];
  readonly tag: string;
  readonly empty?: boolean;
}

interface Portal {
  readonly prepared: Prepared;
  readonly paramFormats: readonly number[];
  readonly values: readonly (Buffer | null)[];
  readonly resultFormats: readonly number[];
  answer?: Answer;
  sent: number;
}

/** The SQLSTATE of each domain error code. */
const SQLSTATE: Readonly<Record<ErrorCode, string>> = {
  BAD_USER_INPUT: '22023',
  UNKNOWN_MEMBER: '42703',
  INVALID_QUERY: '0A000',
  FORBIDDEN: '42501',
  UNAUTHENTICATED: '28000',
  CONFLICT: '40001',
  NOT_FOUND: '42704',
  RATE_LIMITED: '53400',
  TIMEOUT: '57014',
  UNAVAILABLE: '57P03',
};

/** An error as PostgreSQL's ErrorResponse fields; internal failures are logged and answered without details. */
function errorFields(error: unknown, logger: Logger, session: number): { code: string; message: string; hint?: string; position?: number } {
  if (error instanceof SqlInterfaceError)
    return {
      code: error.sqlstate,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error.position ? { position: error.position } : {}),
    };
  if (isStrataError(error)) {
    const suggestions = error.details.suggestions;
    const hint = Array.isArray(suggestions) && suggestions.length > 0 ? `Did you mean ${suggestions.join(' or ')}?` : undefined;
    return { code: SQLSTATE[error.code], message: error.message, ...(hint ? { hint } : {}) };
  }
  logger.error({ sqlSession: session, err: error instanceof Error ? error.message : String(error) }, 'sql statement failed');
  return { code: 'XX000', message: `internal error; it was logged under SQL session ${session}` };
}

/**
 * One authenticated SQL connection: reads the simple and extended query protocols and
 * answers each statement by what it is. SELECTs over semantic tables become metric queries
 * (with the caller's clearance, scope, small-cell threshold and analytics rate limit, as the
 * GraphQL `metrics` field); catalog queries go to the catalog mirror; session commands are
 * acknowledged. Messages are handled one at a time (pg-gateway pauses the socket meanwhile).
 */
export function createSqlSession(
  services: SqlServices,
  connection: { readonly principal: Principal; readonly address: string; readonly id: number; send(data: Buffer): void; end(): void },
) {
  const statements = new Map<string, Prepared>();
  const portals = new Map<string, Portal>();
  let skipping = false;
  let inTransaction = false;
  /** The metric statement running now: its cancel scope, and how to answer the client before its work ends. */
  let running: { readonly scope: CancelScope; readonly abandon: (error: Error) => void } | undefined;
  const { principal, send } = connection;
  const caller = callerKey(principal, connection.address);
  const access = queryAccess(principal, services.subject, services.privacyK);
  const status = () => (inTransaction ? 'T' : 'I');

  const admit = (operationClass: 'analytics' | 'catalog') => {
    const refused = services.limiter?.admit(caller, [[operationClass, 1]]);
    if (refused) throw rateLimited(refused, caller);
  };

  const audit = (entry: Record<string, unknown>, startedAt: number) =>
    services.logger.info(
      { sqlSession: connection.id, key: principal.name, durationMs: Math.round((performance.now() - startedAt) * 100) / 100, ...entry },
      'sql statement',
    );

  const prepare = async (text: string): Promise<{ statements: SqlStatement[]; catalog: SqlCatalog }> => {
    const catalog = sqlCatalog(await services.semantic());
    return { statements: parseStatements(text, catalog.tables), catalog };
  };

  /** Runs a metric statement: translation, the caller's rate limit, the semantic layer. */
  const runMetric = async (select: unknown, parameters: SqlParameters, resultFormats: readonly number[], describe: boolean): Promise<Answer> => {
    const startedAt = performance.now();
    const layer = await services.semantic();
    const translated = translateSelect(select, sqlCatalog(layer).tables, parameters);
    const description = describe ? rowDescriptionOf(translated.columns, resultFormats) : undefined;
    if (translated.empty) return { description, rows: [], tag: 'SELECT 0' };
    let outcome: string | undefined;
    const scope = createCancelScope();
    let abandon!: (error: Error) => void;
    const abandoned = new Promise<never>((_resolve, reject) => (abandon = reject));
    running = { scope, abandon };
    try {
      admit('analytics');
      const work = services.analytics.run((db) => scope.run(() => layer.query(db, translated.query, access)));
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
        { kind: 'metric', table: translated.table, metrics: translated.query.metrics, rows: rows.length, suppressedRows: result.suppressedRows.length },
        startedAt,
      );
      return { description, rows, tag: `SELECT ${rows.length}` };
    } finally {
      running = undefined;
      if (outcome === undefined)
        audit(
          { kind: 'metric', table: translated.table, metrics: translated.query.metrics, failed: true, ...(scope.cancelled ? { cancelled: true } : {}) },
          startedAt,
        );
    }
  };

  /** Runs a catalog statement on the mirror: Parse, Bind, Describe, Execute, Sync in one exchange. */
  const runCatalog = async (
    text: string,
    portal: { paramTypes: readonly number[]; paramFormats: readonly number[]; values: readonly (Buffer | null)[]; resultFormats: readonly number[] },
  ): Promise<Answer> => {
    const startedAt = performance.now();
    admit('catalog');
    const { ddl } = sqlCatalog(await services.semantic());
    const request = Buffer.concat([
      wire.parseMessage(text, portal.paramTypes),
      wire.bindMessage(portal.paramFormats, portal.values, portal.resultFormats),
      wire.describeMessage('P'),
      wire.executeMessage(),
      wire.syncMessage(),
    ]);
    const reply = wire.splitMessages(await services.mirror.exchange(ddl, request));
    let description: Buffer | undefined;
    const rows: Buffer[] = [];
    let tag = '';
    let empty = false;
    for (const { type, message } of reply) {
      if (type === 'T') description = message;
      else if (type === 'D') rows.push(message);
      else if (type === 'C') tag = message.toString('utf8', 5, message.length - 1);
      else if (type === 'I') empty = true;
      else if (type === 'E') {
        const fields = wire.readErrorFields(message);
        const position = fields.get('P');
        throw new SqlInterfaceError(fields.get('C') ?? 'XX000', fields.get('M') ?? 'error', fields.get('H'), position ? Number(position) : undefined);
      }
    }
    audit({ kind: 'catalog', rows: rows.length }, startedAt);
    return { description, rows, tag, empty };
  };

  const runSession = (statement: Extract<SqlStatement, { kind: 'session' }>): Answer => {
    if (statement.show)
      return { description: showDescription(statement.show), rows: [wire.dataRow([Buffer.from(services.identity.serverVersion)])], tag: 'SHOW' };
    if (statement.transaction === 'begin') inTransaction = true;
    if (statement.transaction === 'end') inTransaction = false;
    return { description: undefined, rows: [], tag: statement.tag };
  };

  const fail = (error: unknown) => {
    send(wire.errorResponse({ severity: 'ERROR', ...errorFields(error, services.logger, connection.id) }));
  };

  // ---- simple query protocol ----
  const simpleQuery = async (text: string) => {
    try {
      const { statements: parsed } = await prepare(text);
      if (parsed.length === 0) send(wire.emptyQueryResponse());
      for (const statement of parsed) {
        const answer =
          statement.kind === 'metric'
            ? await runMetric(statement.select, [], [], true)
            : statement.kind === 'catalog'
              ? await runCatalog(statement.text, { paramTypes: [], paramFormats: [], values: [], resultFormats: [] })
              : runSession(statement);
        if (answer.description) send(answer.description);
        for (const row of answer.rows) send(row);
        send(answer.empty ? wire.emptyQueryResponse() : wire.commandComplete(answer.tag));
      }
    } catch (error) {
      fail(error);
    }
    send(wire.readyForQuery(status()));
  };

  // ---- extended query protocol ----
  const parse = async (reader: wire.MessageReader) => {
    const name = reader.cstring();
    const text = reader.cstring();
    const count = reader.int16();
    const paramTypes = Array.from({ length: count }, () => reader.int32());
    const { statements: parsed } = await prepare(text);
    if (parsed.length > 1) throw new SqlInterfaceError('42601', 'cannot insert multiple commands into a prepared statement');
    const statement = parsed[0];
    const used = statement?.kind === 'metric' ? highestParameter(statement.select) : 0;
    const types = [...paramTypes, ...Array<number>(Math.max(0, used - paramTypes.length)).fill(0)];
    statements.set(name, { text, statement, paramTypes: types });
    send(wire.parseComplete());
  };

  const bind = (reader: wire.MessageReader) => {
    const portalName = reader.cstring();
    const statementName = reader.cstring();
    const prepared = statements.get(statementName);
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
    portals.set(portalName, { prepared, paramFormats, values, resultFormats, sent: 0 });
    send(wire.bindComplete());
  };

  /** Runs a portal once; its answer is kept for Execute (and for rows past a row limit). */
  const answerOf = async (portal: Portal): Promise<Answer> => {
    if (portal.answer) return portal.answer;
    const { statement, paramTypes } = portal.prepared;
    let answer: Answer;
    if (!statement) answer = { description: undefined, rows: [], tag: '', empty: true };
    else if (statement.kind === 'session') answer = runSession(statement);
    else if (statement.kind === 'catalog') answer = await runCatalog(statement.text, { paramTypes, ...portal });
    else {
      const parameters = portal.values.map((v, i) => parameterText(v, formatAt(portal.paramFormats, i), paramTypes[i] ?? 0));
      answer = await runMetric(statement.select, parameters, portal.resultFormats, true);
    }
    portal.answer = answer;
    return answer;
  };

  const describe = async (reader: wire.MessageReader) => {
    const what = reader.bytes(1).toString('latin1');
    const name = reader.cstring();
    if (what === 'P') {
      const portal = portals.get(name);
      if (!portal) throw new SqlInterfaceError('34000', `portal "${name}" does not exist`);
      const statement = portal.prepared.statement;
      if (statement?.kind === 'metric') {
        const parameters = portal.values.map((v, i) => parameterText(v, formatAt(portal.paramFormats, i), portal.prepared.paramTypes[i] ?? 0));
        const translated = translateSelect(statement.select, sqlCatalog(await services.semantic()).tables, parameters);
        send(rowDescriptionOf(translated.columns, portal.resultFormats));
        return;
      }
      const answer = await answerOf(portal);
      send(answer.description ?? wire.noData());
      return;
    }
    const prepared = statements.get(name);
    if (!prepared) throw new SqlInterfaceError('26000', `prepared statement "${name}" does not exist`);
    const statement = prepared.statement;
    if (statement?.kind === 'catalog') {
      const { ddl } = sqlCatalog(await services.semantic());
      const request = Buffer.concat([wire.parseMessage(statement.text, prepared.paramTypes), wire.describeMessage('S'), wire.syncMessage()]);
      for (const { type, message } of wire.splitMessages(await services.mirror.exchange(ddl, request))) {
        if (type === 't' || type === 'T' || type === 'n') send(message);
        else if (type === 'E') {
          const fields = wire.readErrorFields(message);
          throw new SqlInterfaceError(fields.get('C') ?? 'XX000', fields.get('M') ?? 'error', fields.get('H'));
        }
      }
      return;
    }
    send(wire.parameterDescription(prepared.paramTypes.map((oid) => (oid === 0 ? 25 : oid))));
    if (statement?.kind === 'session' && statement.show) return send(showDescription(statement.show));
    if (statement?.kind !== 'metric') return send(wire.noData());
    const placeholders = prepared.paramTypes.map(() => '0');
    const translated: TranslatedSelect = translateSelect(statement.select, sqlCatalog(await services.semantic()).tables, placeholders);
    send(rowDescriptionOf(translated.columns, []));
  };

  const execute = async (reader: wire.MessageReader) => {
    const name = reader.cstring();
    const maxRows = reader.int32();
    const portal = portals.get(name);
    if (!portal) throw new SqlInterfaceError('34000', `portal "${name}" does not exist`);
    const answer = await answerOf(portal);
    if (answer.empty) return send(wire.emptyQueryResponse());
    const end = maxRows > 0 ? Math.min(answer.rows.length, portal.sent + maxRows) : answer.rows.length;
    for (let i = portal.sent; i < end; i++) send(answer.rows[i] as Buffer);
    portal.sent = end;
    if (end < answer.rows.length) return send(wire.portalSuspended());
    send(wire.commandComplete(answer.tag));
  };

  const close = (reader: wire.MessageReader) => {
    const what = reader.bytes(1).toString('latin1');
    const name = reader.cstring();
    if (what === 'S') statements.delete(name);
    else portals.delete(name);
    send(wire.closeComplete());
  };

  return {
    /** Handles one frontend message (type byte, length, fields). */
    async handle(data: Buffer): Promise<void> {
      const reader = new wire.MessageReader(data);
      const type = reader.type;
      if (type === 'X') return connection.end();
      if (type === 'S') {
        skipping = false;
        portals.delete('');
        return send(wire.readyForQuery(status()));
      }
      if (type === 'Q') return simpleQuery(reader.cstring());
      if (type === 'H') return;
      if (skipping) return;
      try {
        switch (type) {
          case 'P':
            return await parse(reader);
          case 'B':
            return bind(reader);
          case 'D':
            return await describe(reader);
          case 'E':
            return await execute(reader);
          case 'C':
            return close(reader);
          default:
            throw new SqlInterfaceError('08P01', `unsupported frontend message '${type}' (COPY and function calls are not supported)`);
        }
      } catch (error) {
        skipping = true;
        fail(error);
      }
    },
    /**
     * A cancel request for this session: the metric statement running now is cancelled in the
     * database (store/cancel-scope.ts) and answers 57014 once the database has stopped it; when
     * it is still waiting for an analytics slot, or runs where it cannot be stopped (PGlite),
     * it answers 57014 at once. Without a metric statement running, nothing happens (as in
     * PostgreSQL; catalog queries are bounded by their own time limit).
     */
    async cancel(): Promise<void> {
      const current = running;
      if (!current) return;
      const outcome = await current.scope.cancel();
      if (outcome !== 'stopping') current.abandon(new SqlInterfaceError('57014', 'canceling statement due to user request'));
    },
  };
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

/** The RowDescription of `SHOW name`: one text column named after the setting. */
function showDescription(name: string): Buffer {
  return wire.rowDescription([{ name, typeOid: 25, typeSize: -1, format: 0 }]);
}

function formatAt(formats: readonly number[], index: number): number {
  return formats.length === 0 ? 0 : formats.length === 1 ? (formats[0] as number) : (formats[index] ?? 0);
}

function rowDescriptionOf(columns: readonly OutputColumn[], resultFormats: readonly number[]): Buffer {
  return wire.rowDescription(
    columns.map((c, i) => ({
      name: c.name,
      typeOid: TYPE_INFO[c.type].oid,
      typeSize: TYPE_INFO[c.type].size,
      format: formatAt(resultFormats, i) === 1 ? 1 : 0,
    })),
  );
}

/** A column's value in a metric result row: the metric's column, or the group-by's by position. */
function valueOf(row: Readonly<Record<string, unknown>>, column: OutputColumn, columns: readonly { readonly name: string }[]): unknown {
  if (column.source.kind === 'metric') return row[column.source.metric];
  const name = columns[column.source.index]?.name;
  return name === undefined ? null : row[name];
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
