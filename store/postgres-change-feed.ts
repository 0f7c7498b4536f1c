import pg from 'pg';
import type { ChangeFeed, ChangeListener } from './change-feed.ts';
import { checkChannel, sendNotify, Subscribers } from './change-feed.ts';
import type { DatabaseSchema } from './schema.ts';
import type { Kysely } from 'kysely';
import { logger } from './logger.ts';

export interface ListenerOptions {
  /** First reconnect delay; it doubles after each failure up to `maxDelayMs` (with jitter). */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Longest a caller of `sync` waits before it falls back to the database (default 1 s). */
  readonly syncWaitMs?: number;
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

/**
 * A caller of `sync` waits this long by default, then falls back to the database. The
 * connection itself is presumed dead only when a round trip stays unanswered for
 * DEAD_AFTER_MS: a loaded server answers late, and dropping the LISTEN connection then would
 * lose notifications and reset every listener's cache just when the load is highest.
 */
const SYNC_WAIT_MS = 1_000;
const DEAD_AFTER_MS = 10_000;

/**
 * The callers of one round trip. They get false if it has not answered `waitMs` after the
 * first of them asked (so none waits longer than that); one timer per round trip, not per
 * caller, and one promise that all its callers share (not one each: two or three syncs per
 * request on the hot path).
 */
interface SyncBatch {
  /** Settles once: the round trip's answer, or false at the timeout, whichever comes first. */
  readonly answered: Promise<boolean>;
  /** Its callers got false (timed out): later callers start a batch of their own. */
  readonly expired: boolean;
  answer(ok: boolean): void;
}

function waitingBatch(waitMs: number): SyncBatch {
  let settle: (ok: boolean) => void = () => undefined;
  const answered = new Promise<boolean>((resolve) => {
    settle = resolve;
  });
  // The promise settles once: the round trip's answer after the timeout changes nothing.
  const batch = {
    answered,
    expired: false,
    answer(ok: boolean) {
      clearTimeout(timer);
      settle(ok);
    },
  };
  const timer = setTimeout(() => {
    batch.expired = true;
    batch.answer(false);
  }, waitMs);
  return batch;
}

/** Settled answers, shared by every caller that needs no round trip. */
const ANSWERED_TRUE = Promise.resolve(true);
const ANSWERED_FALSE = Promise.resolve(false);

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
  return new PostgresChangeFeed(connect, options.minDelayMs ?? 250, options.maxDelayMs ?? 10_000, options.syncWaitMs ?? SYNC_WAIT_MS);
}

class PostgresChangeFeed implements ChangeFeed {
  readonly #subscribers = new Subscribers();
  /** The current connection, connecting or connected; `#connected` once its handshake is done. */
  #client: pg.Client | undefined;
  #connected = false;
  #listening = new Set<string>();
  #live = false;
  #closed = false;
  #delay: number;
  #retry: NodeJS.Timeout | undefined;
  #syncs: Promise<void> = Promise.resolve();
  /** Whether the server delivers pending notifications before ReadyForQuery (PostgreSQL 14+). */
  #syncable = false;
  #syncing = false;
  /** Whether a round trip is due at the end of this turn of the event loop. */
  #pumpScheduled = false;
  /** The callers waiting for the next round trip. */
  #waiters: SyncBatch | undefined;
  /** The callers of the round trip in flight, and when it was sent (`performance.now()`). */
  #inFlight: SyncBatch | undefined;
  #inFlightSentAt = 0;
  /** When the latest round trip that answered on the current connection was sent. */
  #syncedSentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly connect: () => pg.Client,
    private readonly minDelay: number,
    private readonly maxDelay: number,
    private readonly syncWait: number,
  ) {
    this.#delay = minDelay;
  }

  get live(): boolean {
    return this.#live;
  }

  subscribe(channel: string, listener: ChangeListener): () => void {
    const unsubscribe = this.#subscribers.add(channel, listener);
    if (!this.#client) this.#open();
    else if (this.#connected) this.#queueSync(this.#client);
    return unsubscribe;
  }

  async notify(trx: Kysely<DatabaseSchema>, channel: string, payload: string): Promise<void> {
    await sendNotify(trx, channel, payload);
    this.#subscribers.dispatch(channel, payload);
  }

  /**
   * A round trip on the LISTEN connection: PostgreSQL (14 and later) sends every
   * notification committed before a query ahead of that query's ReadyForQuery, and pg
   * emits them before the query resolves. The round trip is sent at the end of the current
   * turn of the event loop, so the callers of one turn share it. Callers waiting while one is
   * in flight share the next one (which starts after they called), unless the one in flight
   * was sent at or after their `since`; one that answered after being sent at or after
   * `since` answers at once.
   */
  sync(since = performance.now()): Promise<boolean> {
    if (!this.#live || !this.#syncable) return ANSWERED_FALSE;
    if (this.#syncedSentAt >= since) return ANSWERED_TRUE;
    const inFlight = this.#inFlight;
    if (inFlight && !inFlight.expired && this.#inFlightSentAt >= since) return inFlight.answered;
    // No answer in time: the batch's callers read from the database instead; the round trip goes on.
    if (!this.#waiters || this.#waiters.expired) this.#waiters = waitingBatch(this.syncWait);
    const { answered } = this.#waiters;
    if (this.#syncing || this.#pumpScheduled) return answered;
    // Sent once this turn's other requests have asked too: under load a poll of the event
    // loop starts many requests, and a round trip sent by the first would answer none of
    // the others (they arrived after it was sent), which then waited for it and one more.
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
    return answered;
  }

  #pump(): void {
    const client = this.#client;
    const batch = this.#waiters;
    if (this.#syncing || !batch) return;
    if (!client) {
      // The connection dropped meanwhile: `#drop` made the feed not live, so the callers fall back.
      this.#waiters = undefined;
      return batch.answer(false);
    }
    this.#waiters = undefined;
    this.#inFlight = batch;
    this.#syncing = true;
    const sentAt = performance.now();
    this.#inFlightSentAt = sentAt;
    const dead = setTimeout(() => this.#drop(client, `no answer to a sync within ${DEAD_AFTER_MS} ms`), DEAD_AFTER_MS);
    client
      // An empty statement: the server answers EmptyQueryResponse and ReadyForQuery, with the
      // pending notifications ahead of it as for any statement, and plans and runs nothing.
      .query('')
      .then(
        () => {
          const ok = this.#client === client && this.#live;
          if (ok) this.#syncedSentAt = Math.max(this.#syncedSentAt, sentAt);
          batch.answer(ok);
        },
        () => batch.answer(false),
      )
      .finally(() => {
        clearTimeout(dead);
        this.#syncing = false;
        this.#inFlight = undefined;
        this.#pump();
      });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const current = this.#client;
    this.#client = undefined;
    this.#connected = false;
    this.#live = false;
    await current?.end().catch(() => undefined);
  }

  #open(): void {
    if (this.#closed || this.#client || this.#retry) return;
    const next = this.connect();
    this.#client = next;
    this.#listening = new Set();
    next.on('error', (error) => this.#drop(next, error.message));
    next.on('end', () => this.#drop(next, 'connection ended'));
    next.on('notification', (notification) => this.#subscribers.dispatch(notification.channel, notification.payload ?? ''));
    next
      .connect()
      .then(
        // The version is known before the feed goes live, so `sync` can answer from then on.
        () => this.#checkVersion(next),
      )
      .then(
        () => {
          if (this.#client !== next) return;
          this.#connected = true;
          logger.info({ channels: this.#subscribers.channels() }, 'change feed listening');
          this.#queueSync(next);
        },
        (error: unknown) => this.#drop(next, message(error)),
      );
  }

  async #checkVersion(target: pg.Client): Promise<void> {
    const { rows } = await target.query<{ server_version_num: string }>('SHOW server_version_num');
    this.#syncable = Number(rows[0]?.server_version_num ?? 0) >= 140_000;
    if (!this.#syncable) logger.warn('PostgreSQL before 14 delivers notifications late: API keys are looked up on every request');
  }

  #queueSync(target: pg.Client): void {
    this.#syncs = this.#syncs.then(() => this.#sync(target)).catch((error: unknown) => this.#drop(target, message(error)));
  }

  /** LISTENs to every subscribed channel not yet listened to; live once none is missing. */
  async #sync(target: pg.Client): Promise<void> {
    for (;;) {
      if (this.#client !== target) return;
      const missing = this.#subscribers.channels().filter((channel) => !this.#listening.has(channel));
      if (missing.length === 0) break;
      this.#live = false;
      // LISTEN takes no parameters; channel names are checked identifiers of the code.
      for (const channel of missing) await target.query(`LISTEN "${checkChannel(channel)}"`);
      if (this.#client !== target) return;
      for (const channel of missing) {
        this.#listening.add(channel);
        this.#subscribers.dispatch(channel, null);
      }
    }
    this.#live = true;
    this.#delay = this.minDelay;
  }

  /** Forgets a failed connection and schedules the next attempt (unless closed). */
  #drop(dropped: pg.Client, reason: string): void {
    if (this.#client !== dropped) return;
    if (this.#live) logger.warn({ reason }, 'change feed lost its LISTEN connection; caches are bypassed until it is back');
    this.#client = undefined;
    this.#connected = false;
    this.#live = false;
    this.#syncedSentAt = Number.NEGATIVE_INFINITY;
    dropped.end().catch(() => undefined);
    if (this.#closed) return;
    this.#retry = setTimeout(
      () => {
        this.#retry = undefined;
        this.#open();
      },
      this.#delay * (0.5 + Math.random() / 2),
    );
    this.#retry.unref();
    this.#delay = Math.min(this.#delay * 2, this.maxDelay);
  }
}
