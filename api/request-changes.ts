import type { ChangeFeed } from '../store/change-feed.ts';
import { currentObservation } from './request-observation.ts';

/**
 * The longest a change committed on another instance (a key revoked, a tag published) may
 * take to reach this instance's caches (`STRATA_CHANGE_PROPAGATION_MS`): with a bound,
 * requests do not wait for a round trip to the database while the feed has synced within
 * it. The default is none: a revoked key is refused by every instance from the very next
 * request (issue 13), and concurrent requests share one round trip.
 */
export const DEFAULT_CHANGE_PROPAGATION_MS = 0;

/**
 * The server's change feed as the caches of a request consult it. `sync` answers for the
 * changes committed up to `propagationMs` before the request arrived (before the call
 * outside a request):
 * - a change made through this instance reaches its caches at once (the feed tells this
 *   process's listeners in the changing transaction), whatever the bound;
 * - a change made anywhere else reaches them as soon as its notification arrives (LISTEN,
 *   usually within a millisecond of the commit), and a request arriving `propagationMs`
 *   after the commit never sees the old state: while the latest round trip on the LISTEN
 *   connection is recent enough, requests are answered without one, and one is started in
 *   the background once the latest is half the bound old, so requests under steady load
 *   never wait; after a quiet spell the first request waits for one round trip, as every
 *   request does with a bound of 0.
 * - while the feed is not live (PostgreSQL LISTEN connection down), `sync` answers false
 *   and the caches ask the database (key lookups) or reload on their polling interval.
 */
export function requestScopedChanges(feed: ChangeFeed, propagationMs = 0): ChangeFeed {
  /** Every change committed before this `performance.now()` reading has reached the listeners. */
  let heardBefore = Number.NEGATIVE_INFINITY;
  let refreshing = false;
  const syncAsOf = (asOf: number) =>
    feed.sync(asOf).then((ok) => {
      if (ok) heardBefore = Math.max(heardBefore, asOf);
      return ok;
    });
  const refresh = () => {
    if (refreshing) return;
    refreshing = true;
    void syncAsOf(performance.now()).finally(() => (refreshing = false));
  };
  return {
    subscribe: (channel, listener) => feed.subscribe(channel, listener),
    notify: (trx, channel, payload) => feed.notify(trx, channel, payload),
    get live() {
      return feed.live;
    },
    sync(since) {
      const asOf = since ?? currentObservation()?.startedAt ?? performance.now();
      if (propagationMs <= 0) return feed.sync(asOf);
      if (!feed.live) {
        heardBefore = Number.NEGATIVE_INFINITY;
        return Promise.resolve(false);
      }
      // Not synced within the bound: wait, as with a bound of 0, for a round trip sent after the arrival.
      if (heardBefore < asOf - propagationMs) return syncAsOf(asOf);
      if (performance.now() - heardBefore > propagationMs / 2) refresh();
      return Promise.resolve(true);
    },
    close: () => feed.close(),
  };
}
