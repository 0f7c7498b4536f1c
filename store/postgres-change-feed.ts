import pg from 'pg';
import type { ChangeFeed } from './change-feed.ts';
import { checkChannel, sendNotify, Subscribers } from './change-feed.ts';
import { logger } from './logger.ts';

export interface ListenerOptions {
  /** First reconnect delay; it doubles after each failure up to `maxDelayMs` (with jitter). */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** The dedicated LISTEN connection: not from the pool, so it is never handed to a query. */
export function listenerClient(connectionString: string): pg.Client {
  return new pg.Client({
    connectionString,
    application_name: 'strata-change-feed',
    connectionTimeoutMillis: 10_000,
    // Detects a silently dead connection (no FIN or RST) within about a minute.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The feed of a PostgreSQL database: `notify` sends `pg_notify` in the caller's transaction
 * (and tells this process's listeners at once); a dedicated connection, opened on the first
 * subscription, LISTENs to every subscribed channel and reconnects with exponential backoff
 * when it drops. It is `live` only while that connection listens to every subscribed
 * channel; when a channel starts listening (after each (re)connection) its listeners hear
 * `null`, since notifications sent meanwhile were lost.
 */
export function createPostgresChangeFeed(connect: () => pg.Client, options: ListenerOptions = {}): ChangeFeed {
  const minDelay = options.minDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const subscribers = new Subscribers();
  /** The current connection, connecting or connected; `connected` once its handshake is done. */
  let client: pg.Client | undefined;
  let connected = false;
  let listening = new Set<string>();
  let live = false;
  let closed = false;
  let delay = minDelay;
  let retry: NodeJS.Timeout | undefined;
  let syncs: Promise<void> = Promise.resolve();

  const drop = (dropped: pg.Client, reason: string) => {
    if (client !== dropped) return;
    if (live) logger.warn({ reason }, 'change feed lost its LISTEN connection; caches are bypassed until it is back');
    client = undefined;
    connected = false;
    live = false;
    dropped.end().catch(() => undefined);
    if (closed) return;
    retry = setTimeout(() => {
      retry = undefined;
      open();
    }, delay * (0.5 + Math.random() / 2));
    retry.unref();
    delay = Math.min(delay * 2, maxDelay);
  };

  /** LISTENs to every subscribed channel not yet listened to; live once none is missing. */
  const sync = async (target: pg.Client) => {
    for (;;) {
      if (client !== target) return;
      const missing = subscribers.channels().filter((channel) => !listening.has(channel));
      if (missing.length === 0) break;
      live = false;
      // LISTEN takes no parameters; channel names are checked identifiers of the code.
      for (const channel of missing) await target.query(`LISTEN "${checkChannel(channel)}"`);
      if (client !== target) return;
      for (const channel of missing) {
        listening.add(channel);
        subscribers.dispatch(channel, null);
      }
    }
    live = true;
    delay = minDelay;
  };

  const queueSync = (target: pg.Client) => {
    syncs = syncs.then(() => sync(target)).catch((error: unknown) => drop(target, message(error)));
  };

  const open = () => {
    if (closed || client || retry) return;
    const next = connect();
    client = next;
    listening = new Set();
    next.on('error', (error) => drop(next, error.message));
    next.on('end', () => drop(next, 'connection ended'));
    next.on('notification', (notification) => subscribers.dispatch(notification.channel, notification.payload ?? ''));
    next.connect().then(
      () => {
        if (client !== next) return;
        connected = true;
        logger.info({ channels: subscribers.channels() }, 'change feed listening');
        queueSync(next);
      },
      (error: unknown) => drop(next, message(error)),
    );
  };

  return {
    subscribe(channel, listener) {
      const unsubscribe = subscribers.add(channel, listener);
      if (!client) open();
      else if (connected) queueSync(client);
      return unsubscribe;
    },
    async notify(trx, channel, payload) {
      await sendNotify(trx, channel, payload);
      subscribers.dispatch(channel, payload);
    },
    get live() {
      return live;
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = undefined;
      connected = false;
      live = false;
      await current?.end().catch(() => undefined);
    },
  };
}
