/** What the parts of one SQL session share: the server's services, the caller, the transaction status and the running statement. */
import type { Logger } from 'pino';
import type { QueryAccess, SemanticLayer } from '../../modeling/semantic-layer.ts';
import type { Principal } from '../../services/authorization.ts';
import type { AnalyticsLane } from '../../services/analytics-lane.ts';
import { queryAccess } from '../../services/access.ts';
import type { SqlStatement } from '../../modeling/sql-interface/statements.ts';
import type { CatalogMirror } from './catalog-mirror.ts';
import type { SqlServerIdentity } from './server-identity.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import { callerKey, rateLimited } from '../request-limits.ts';
import type { CancelScope } from '../../store/cancel-scope.ts';
import { showDescription } from './result-description.ts';
import * as wire from './wire.ts';

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

/** The authenticated connection a session answers. */
export interface SqlConnection {
  readonly principal: Principal;
  readonly address: string;
  readonly id: number;
  send(data: Buffer): void;
  end(): void;
}

/** A statement's answer: its fields (none for commands), encoded rows, and command tag. */
export interface Answer {
  readonly description: Buffer | undefined;
  readonly rows: readonly Buffer[];
  readonly tag: string;
  readonly empty?: boolean;
}

/** A statement prepared by Parse: its text, what it is, and its parameter types. */
export interface Prepared {
  readonly text: string;
  readonly statement: SqlStatement | undefined;
  readonly paramTypes: readonly number[];
}

/** A prepared statement bound to values by Bind; its answer is kept for Execute (and rows past a row limit). */
export interface Portal {
  readonly prepared: Prepared;
  readonly paramFormats: readonly number[];
  readonly values: readonly (Buffer | null)[];
  readonly resultFormats: readonly number[];
  answer?: Answer;
  sent: number;
}

/** The state of one session, passed to each part of it. */
export interface SessionContext {
  readonly services: SqlServices;
  readonly connection: SqlConnection;
  /** Prepared statements and portals of the extended protocol, by name (`''` is the unnamed one). */
  readonly statements: Map<string, Prepared>;
  readonly portals: Map<string, Portal>;
  /** The caller's clearance, scope and small-cell threshold. */
  readonly access: QueryAccess;
  /** Whose rate limit statements spend. */
  readonly caller: string;
  inTransaction: boolean;
  /** The metric statement running now: its cancel scope, and how to answer the client before its work ends. */
  running: { readonly scope: CancelScope; readonly abandon: (error: Error) => void } | undefined;
}

export function createSessionContext(services: SqlServices, connection: SqlConnection): SessionContext {
  return {
    services,
    connection,
    statements: new Map(),
    portals: new Map(),
    access: queryAccess(connection.principal, services.subject, services.privacyK),
    caller: callerKey(connection.principal, connection.address),
    inTransaction: false,
    running: undefined,
  };
}

/** The transaction status of ReadyForQuery: in a transaction block or idle. */
export function transactionStatus(ctx: SessionContext): 'T' | 'I' {
  return ctx.inTransaction ? 'T' : 'I';
}

/** Spends one unit of the caller's rate limit for the operation class, or throws RATE_LIMITED. */
export function admit(ctx: SessionContext, operationClass: 'analytics' | 'catalog'): void {
  const refused = ctx.services.limiter?.admit(ctx.caller, [[operationClass, 1]]);
  if (refused) throw rateLimited(refused, ctx.caller);
}

/** Logs a statement with its session, key and duration. */
export function audit(ctx: SessionContext, entry: Record<string, unknown>, startedAt: number): void {
  ctx.services.logger.info(
    { sqlSession: ctx.connection.id, key: ctx.connection.principal.name, durationMs: Math.round((performance.now() - startedAt) * 100) / 100, ...entry },
    'sql statement',
  );
}

/** A session command: `SHOW server_version` answered here; BEGIN, COMMIT and the like acknowledged, setting the transaction status. */
export function runSession(ctx: SessionContext, statement: Extract<SqlStatement, { kind: 'session' }>): Answer {
  if (statement.show)
    return { description: showDescription(statement.show), rows: [wire.dataRow([Buffer.from(ctx.services.identity.serverVersion)])], tag: 'SHOW' };
  if (statement.transaction === 'begin') ctx.inTransaction = true;
  if (statement.transaction === 'end') ctx.inTransaction = false;
  return { description: undefined, rows: [], tag: statement.tag };
}
