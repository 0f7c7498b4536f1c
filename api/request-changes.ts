import type { ChangeFeed } from '../store/change-feed.ts';
import { currentObservation } from './request-observation.ts';

/**
 * The server's change feed as the caches of a request consult it: `sync` asks only for the
 * changes committed before the request arrived, so after the first cache of a request (the
 * API key's) has synced, the next ones (tag registry, decision definitions) are answered by
 * the same round trip instead of one each. Outside a request it syncs as of the call.
 */
export function requestScopedChanges(feed: ChangeFeed): ChangeFeed {
  return {
    subscribe: (channel, listener) => feed.subscribe(channel, listener),
    notify: (trx, channel, payload) => feed.notify(trx, channel, payload),
    get live() {
      return feed.live;
    },
    sync: (since) => feed.sync(since ?? currentObservation()?.startedAt),
    close: () => feed.close(),
  };
}
