import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import { PostgresConnection } from 'pg-gateway';
import { isAllowed, rolesFor, type Principal } from '../../services/authorization.ts';
import { isStrataError } from '../../modeling/errors.ts';
import { loadSqlParser } from '../../modeling/sql-interface/statements.ts';
import { createCatalogMirror, type CatalogMirror } from './catalog-mirror.ts';
import { createSqlSession, type SqlServices } from './sql-session.ts';
import type { SqlServerIdentity } from './server-identity.ts';
import * as wire from './wire.ts';

export interface SqlEndpointOptions {
  /** Key and certificate (PEM): clients may then upgrade to TLS, and must when not on this machine. */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer } | undefined;
  /** What the endpoint reports itself to be (database name, versions). */
  readonly identity: SqlServerIdentity;
  /** Longest a catalog query may run on the catalog mirror. */
  readonly catalogTimeoutMs: number;
  /** The caller behind the password (an API key or a JWT), with the same throttle as HTTP. */
  authenticate(credential: string, address: string): Promise<Principal>;
}

export interface SqlEndpoint {
  readonly server: Server;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number): Promise<number>;
  /**
   * Stops: no new connection; idle sessions end at once (FATAL 57P01), a session running a
   * statement ends after answering it, and what still runs after `graceMs` is cut off.
   */
  close(graceMs: number): Promise<void>;
}

const CANCEL_REQUEST_CODE = 80877102;
/** Largest frontend message accepted (a query text or a Bind with its parameters). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function terminateSocket(socket: Socket, code = '57P01', message = 'terminating connection due to administrator command'): void {
  socket.end(wire.errorResponse({ severity: 'FATAL', code, message }));
}

interface Live {
  /** Answers not yet written: sent together when the client waits (after Sync, Query or Flush), as PostgreSQL does. */
  readonly outgoing: Buffer[];
  /** The connection's socket (the TLS socket once upgraded). */
  socket: Socket;
  readonly secret: number;
  session: ReturnType<typeof createSqlSession> | undefined;
  busy: boolean;
  closing: boolean;
}

/** Whether the peer is this machine (plain-text passwords are accepted only from here without TLS). */
function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * The PostgreSQL wire-protocol endpoint (API.md "SQL for BI tools"). pg-gateway negotiates
 * TLS, reads the startup packet and asks for a cleartext password; the password is an API key
 * (or a JWT), checked like a bearer credential. Only roles that may query metrics connect.
 * Everything after authentication (simple and extended query protocols, cancel requests) is
 * handled by `createSqlSession`.
 */
export function createSqlEndpoint(services: Omit<SqlServices, 'mirror' | 'identity'>, options: SqlEndpointOptions): SqlEndpoint {
  const mirror: CatalogMirror = createCatalogMirror({ timeoutMs: options.catalogTimeoutMs, identity: options.identity });
  const all: SqlServices = { ...services, mirror, identity: options.identity };
  const live = new Map<number, Live>();
  let nextId = 1;
  let stopping = false;

  const refuse = (connection: PostgresConnection, code: string, message: string) => {
    connection.sendData(wire.errorResponse({ severity: 'FATAL', code, message }));
    connection.socket.end();
  };

  const server = createServer((socket) => {
    const id = nextId++;
    socket.setNoDelay(true);
    const entry: Live = { outgoing: [], socket, secret: randomInt(1, 2 ** 31 - 1), session: undefined, busy: false, closing: false };
    const address = socket.remoteAddress ?? 'unknown';
    socket.on('error', () => socket.destroy());
    socket.on('close', () => live.delete(id));
    live.set(id, entry);
    const connection: PostgresConnection = new PostgresConnection(socket, {
      authMode: 'cleartextPassword',
      ...(options.tls ? { tls: { key: options.tls.key, cert: options.tls.cert } } : {}),
      onMessage: async (data, state) => {
        try {
          const message = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
          if (!state.hasStarted) {
            if (message.length === 16 && message.readInt32BE(4) === CANCEL_REQUEST_CODE) {
              const target = live.get(message.readInt32BE(8));
              // As PostgreSQL: the requester hears nothing back, whatever the key matched.
              if (target && target.secret === message.readInt32BE(12))
                void target.session
                  ?.cancel()
                  .catch((error: unknown) =>
                    services.logger.warn(
                      { sqlSession: message.readInt32BE(8), err: error instanceof Error ? error.message : String(error) },
                      'sql cancel failed',
                    ),
                  );
              socket.end();
              return true;
            }
            if (message.length >= 8 && message.readInt32BE(4) === 80877103) return false;
            if (!connection.secureSocket && !isLoopback(address)) {
              refuse(
                connection,
                '28000',
                options.tls
                  ? 'connections from other machines must use TLS (sslmode=require)'
                  : 'this server accepts SQL connections from other machines only over TLS: set STRATA_SQL_TLS_CERT and STRATA_SQL_TLS_KEY',
              );
              return true;
            }
            return false;
          }
          if (message[0] !== 0x70) return false;
          const password = new wire.MessageReader(message).cstring();
          if (await signIn(connection, entry, id, password, address, state.clientInfo?.parameters.user ?? '')) serveQueries(connection.detach(), entry, id);
          return true;
        } catch (error) {
          services.logger.error({ sqlSession: id, err: error instanceof Error ? error.message : String(error) }, 'sql connection failed');
          socket.destroy();
          return true;
        }
      },
    });
  });

  /**
   * After authentication the connection reads its own messages: framing, then one message at
   * a time in order (pg-gateway's handler can interleave messages that arrive while an
   * earlier one is still being answered).
   */
  const serveQueries = (socket: Socket, entry: Live, id: number) => {
    entry.socket = socket;
    let pending: Buffer = Buffer.alloc(0);
    let queue: Promise<void> = Promise.resolve();
    let queued = 0;
    const flush = () => {
      if (entry.outgoing.length === 0) return;
      if (socket.writableEnded || socket.destroyed) {
        entry.outgoing.length = 0;
        return;
      }
      socket.write(entry.outgoing.length === 1 ? (entry.outgoing[0] as Buffer) : Buffer.concat(entry.outgoing));
      entry.outgoing.length = 0;
    };
    const handle = async (message: Buffer) => {
      entry.busy = true;
      try {
        await entry.session?.handle(message);
      } catch (error) {
        services.logger.error({ sqlSession: id, err: error instanceof Error ? error.message : String(error) }, 'sql connection failed');
        socket.destroy();
      } finally {
        entry.busy = false;
        queued -= 1;
        // One write per exchange: the client waits after Sync, a simple Query or Flush (or when nothing else is queued).
        const type = String.fromCharCode(message[0] as number);
        if (queued === 0 || type === 'S' || type === 'Q' || type === 'H') flush();
        if (queued < 64) socket.resume();
        if (entry.closing && queued === 0) terminateSocket(socket);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      while (offset + 5 <= pending.length) {
        const length = pending.readInt32BE(offset + 1);
        if (length < 4 || length > MAX_MESSAGE_BYTES) {
          terminateSocket(socket, '08P01', 'invalid message length');
          return;
        }
        if (offset + 1 + length > pending.length) break;
        const message = Buffer.from(pending.subarray(offset, offset + 1 + length));
        offset += 1 + length;
        queued += 1;
        queue = queue.then(() => handle(message));
      }
      pending = pending.subarray(offset);
      if (queued >= 64) socket.pause();
    });
  };

  const signIn = async (connection: PostgresConnection, entry: Live, id: number, password: string, address: string, user: string) => {
    let principal: Principal;
    try {
      principal = await options.authenticate(password, address);
    } catch (error) {
      if (isStrataError(error)) return refuse(connection, '53400', error.message);
      throw error;
    }
    if (principal.problem || !principal.role)
      return refuse(connection, '28P01', `password authentication failed for user "${user}": ${principal.problem ?? 'an API key is required as the password'}`);
    if (!isAllowed(principal, 'metrics.query'))
      return refuse(connection, '42501', `role ${principal.role} may not query metrics over SQL (allowed: ${rolesFor('metrics.query').join(', ')})`);
    await loadSqlParser();
    entry.session = createSqlSession(all, {
      principal,
      address,
      id,
      send: (data) => entry.outgoing.push(data),
      end: () => connection.socket.end(),
    });
    connection.isAuthenticated = true;
    connection.sendData(
      Buffer.concat([
        wire.authenticationOk(),
        wire.parameterStatus('server_version', options.identity.serverVersion),
        wire.parameterStatus('server_encoding', 'UTF8'),
        wire.parameterStatus('client_encoding', 'UTF8'),
        wire.parameterStatus('DateStyle', 'ISO, MDY'),
        wire.parameterStatus('IntervalStyle', 'postgres'),
        wire.parameterStatus('TimeZone', 'UTC'),
        wire.parameterStatus('integer_datetimes', 'on'),
        wire.parameterStatus('standard_conforming_strings', 'on'),
        wire.parameterStatus('is_superuser', 'off'),
        wire.parameterStatus('session_authorization', user),
        wire.parameterStatus('application_name', connection.clientInfo?.parameters.application_name ?? ''),
        wire.backendKeyData(id, entry.secret),
        wire.readyForQuery('I'),
      ]),
    );
    services.logger.info({ sqlSession: id, key: principal.name, user }, 'sql session started');
    return true;
  };

  return {
    server,
    listen: (port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, () => resolve((server.address() as AddressInfo).port));
      }),
    async close(graceMs) {
      if (stopping) return;
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const entry of live.values()) {
        entry.closing = true;
        if (!entry.busy) terminateSocket(entry.socket);
      }
      const deadline = Date.now() + graceMs;
      while (live.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const entry of live.values()) entry.socket.destroy();
      await closed;
      await mirror.close();
    },
  };
}
