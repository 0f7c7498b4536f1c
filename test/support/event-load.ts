import { eventBatch } from './event-batches.ts';

/** One `POST /v1/events` as a client saw it. */
export interface Attempt {
  readonly ids: readonly string[];
  /** Whether the drain or fault began while this request was waiting for its answer. */
  inFlightAtMark: boolean;
  status?: number;
  body?: unknown;
  retryAfter?: string | null;
  connection?: string | null;
  /** A connection-level failure: the cause's code (ECONNREFUSED, UND_ERR_SOCKET, ...). */
  error?: string;
}

/** Sends one batch and records what came back; never throws. */
export async function sendBatch(base: string, token: string | null, ids: readonly string[], events: unknown): Promise<Attempt> {
  const attempt: Attempt = { ids, inFlightAtMark: false };
  return record(attempt, base, token, events);
}

async function record(attempt: Attempt, base: string, token: string | null, events: unknown): Promise<Attempt> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const response = await fetch(`${base}/v1/events`, { method: 'POST', headers, body: JSON.stringify(events) });
    attempt.status = response.status;
    attempt.retryAfter = response.headers.get('retry-after');
    attempt.connection = response.headers.get('connection');
    attempt.body = await response.json();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    attempt.error = cause?.code ?? String(error);
  }
  return attempt;
}

/** Clients sending batches of fresh events one after another until told to stop. */
export interface EventLoad {
  readonly attempts: Attempt[];
  /** Resolves once `count` batches have been acknowledged. */
  acknowledged(count: number): Promise<void>;
  /** Marks every request now waiting for its answer (`inFlightAtMark`) and returns them. */
  markInFlight(): Attempt[];
  /** Resolves when every client has stopped (a client stops at its first connection failure). */
  done(): Promise<void>;
}

/** Starts `clients` concurrent loops, each sending `size`-event batches with ids `${prefix}-${client}-${n}-*`. */
export function startEventLoad(options: { base: string; token: string; clients: number; size: number; prefix: string }): EventLoad {
  const attempts: Attempt[] = [];
  const pending = new Set<Attempt>();
  const waiters: { count: number; resolve: () => void }[] = [];
  let acked = 0;
  const client = async (index: number) => {
    for (let n = 0; ; n += 1) {
      const events = eventBatch(`${options.prefix}-${index}-${n}`, options.size);
      const attempt: Attempt = { ids: events.map((e) => e.eventId as string), inFlightAtMark: false };
      attempts.push(attempt);
      pending.add(attempt);
      await record(attempt, options.base, options.token, events);
      pending.delete(attempt);
      if (attempt.status === 200) acked += 1;
      for (const waiter of waiters.filter((w) => acked >= w.count)) waiter.resolve();
      if (attempt.error !== undefined || attempt.status !== 200) return;
    }
  };
  const loops = Array.from({ length: options.clients }, (_, i) => client(i));
  return {
    attempts,
    acknowledged: (count) => new Promise((resolve) => (acked >= count ? resolve() : waiters.push({ count, resolve }))),
    markInFlight() {
      for (const attempt of pending) attempt.inFlightAtMark = true;
      return [...pending];
    },
    done: async () => {
      await Promise.all(loops);
    },
  };
}
